import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, startCluster, startPostgres, type ClusterHandle, type PostgresHandle, type ProcessResult } from '@filer/testing';

/*
 * `filer dupes --action` through a real cluster (redis-server, a PostgreSQL job database, the API,
 * two scanner and one batch worker; FILER_BATCH_SHARD_SIZE 2, so groups hash and copies apply in
 * several shards): the plan as in-process; hardlink applied and undone exactly; remove into the
 * quarantine and back, with the job database's record and items; purge; move-to; the batch worker
 * SIGKILLed mid-apply; E_CHANGED for a copy rewritten after the plan; an empty plan; 400s naming
 * the field with no job made. docs/testing.md describes each case.
 */

let cluster: ClusterHandle;
let base: string;
let postgres: PostgresHandle;
let db: pg.Pool;

const filer = (args: string[]): Promise<ProcessResult> =>
  runFiler(['--server', cluster.url, '--token', cluster.tokens.write, ...args], { env: { FILER_TOKEN: '' }, timeoutMs: 60_000 });

const sha256 = (p: string): string => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');

/** Every regular file below `dir` as GNU find sees it (path, size, mode, mtime) with its sha256. */
function snapshot(dir: string): string[] {
  return execFileSync('find', [dir, '-type', 'f', '-printf', '%P\t%s\t%m\t%T@\\0'])
    .toString('utf8')
    .split('\0')
    .filter((r) => r !== '')
    .map((r) => `${r}\t${sha256(path.join(dir, r.split('\t')[0]))}`)
    .sort();
}

const ino = (p: string): number => fs.statSync(p).ino;

/**
 * Two roots, three groups and a unique file: `one` (3 copies, newest in a/y), `two` (2 copies,
 * newest in b), `three` (2 copies); each file's mtime set apart by a day, modes equal.
 */
function writeTree(dir: string): Record<string, string[]> {
  const groups: Record<string, string[]> = {
    one: ['a/x/one.txt', 'b/one copy.txt', 'a/y/one-newest.txt'],
    two: ['a/two.bin', 'b/deep/two-newest.bin'],
    three: ['a/three.dat', 'b/three.dat'],
  };
  let day = 1;
  for (const [name, files] of Object.entries(groups))
    for (const rel of files) {
      const p = path.join(dir, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, `${name} `.repeat(500 + name.length * 100));
      fs.chmodSync(p, 0o644);
      const t = new Date(Date.UTC(2021, 0, day++));
      fs.utimesSync(p, t, t);
    }
  fs.writeFileSync(path.join(dir, 'a/unique.txt'), 'only one of me');
  return Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, v.map((r) => path.join(dir, r))]));
}

interface Rec {
  id: string;
  state: string;
  plan?: { actions: number; skipped: number; groups?: number; bytes: number };
  apply?: Record<string, number>;
}

const record = async (id: string): Promise<Rec> =>
  (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Rec;

async function until(id: string, states: string[]): Promise<Rec> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rec = await record(id);
    if (states.includes(rec.state)) return rec;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${rec.state}, not ${states.join('/')}\n${cluster.logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const submit = (body: unknown): Promise<Response> => cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body });

async function results(id: string): Promise<Record<string, unknown>[]> {
  const res = await cluster.request('GET', `/v1/jobs/${id}/results`, { token: cluster.tokens.read });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.text())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const jobIdOf = (r: ProcessResult): string => {
  const id = /filer: job ([0-9a-z]+) /.exec(r.stderr)?.[1];
  expect(id, r.stderr).toBeDefined();
  return id!;
};

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-cluster-dedupe-'));
  postgres = await startPostgres();
  db = new pg.Pool({ connectionString: postgres.url, max: 2 });
  // Short locks, so the shards of a SIGKILLed worker are taken back within seconds.
  cluster = await startCluster({
    allowedRoots: [base],
    env: {
      FILER_BATCH_SHARD_SIZE: '2',
      FILER_DATABASE_URL: postgres.url,
      FILER_LOCK_DURATION_MS: '2000',
      FILER_STALLED_INTERVAL_MS: '1000',
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await db?.end();
  await postgres?.stop();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('filer --server … dupes --action', () => {
  it('plans hardlinks with the keep rule, applies them (one inode per group, bytes unchanged) and undoes them exactly', async () => {
    const dir = path.join(base, 'links');
    const g = writeTree(dir);
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    const before = snapshot(dir);

    // The plan, line for line as the in-process one (quarantine paths name the job: `<job>` in a plan only shown).
    const quarantineOf = (text: string): string => text.replace(/\/\.filer-quarantine\/[0-9a-z]+\//g, '/.filer-quarantine/<job>/');
    let planned = '';
    for (const format of ['ndjson', 'json', 'text']) {
      const args = ['dupes', a, b, '--action', 'hardlink', '--keep', 'newest', '--format', format];
      const [here, there] = [await runFiler(args, { timeoutMs: 60_000 }), await filer(args)];
      expect([here.code, there.code], here.stderr + there.stderr).toEqual([0, 0]);
      expect(quarantineOf((planned = there.stdout)), format).toBe(here.stdout);
    }
    const keeps = planned.split('\n').filter((l) => l.startsWith('keep '));
    expect(keeps.map((l) => l.replace(/ {2}\(.*$/, '')).sort()).toEqual(
      [g.one[2], g.two[1], b + '/three.dat'].map((p) => `keep ${p}`).sort(),
    );
    expect(planned).toContain(`  hardlink ${g.one[0]}  frees`);
    expect(planned).toMatch(/^plan: 4 copies in 3 groups to hardlink, .* 0 skipped.*nothing changed/m);
    expect(snapshot(dir)).toEqual(before);

    const applied = await filer(['dupes', a, b, '--action', 'hardlink', '--keep', 'newest', '--apply']);
    expect(applied.code, applied.stderr + cluster.logs()).toBe(0);
    const id = jobIdOf(applied);
    expect(applied.stderr).toMatch(new RegExp(`job ${id} completed: 4 done, 0 undone, 0 failed`));
    for (const files of Object.values(g)) expect(new Set(files.map(ino)).size).toBe(1);
    // Every name holds the bytes it held (mtimes are the kept file's now); each copy's own inode
    // waits in its root's quarantine until the job is purged or undone.
    const noMtime = (l: string): string =>
      l
        .split('\t')
        .filter((_, i) => i !== 3)
        .join('\t');
    const after = snapshot(dir);
    expect(after.filter((l) => !l.includes('/.filer-quarantine/')).map(noMtime)).toEqual(before.map(noMtime));
    expect(after.filter((l) => l.includes(`/.filer-quarantine/${id}/`))).toHaveLength(4);

    // `jobs show` names each step's op and kept file, as it does for a job applied on this machine.
    const shown = await filer(['jobs', 'show', id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(
      `done     hardlink ${g.one[0]} ⇒ ${g.one[2]}  (copy kept at ${path.join(a, '.filer-quarantine', id, 'x/one.txt')})`,
    );

    const undone = await filer(['jobs', 'undo', id]);
    expect(undone.code, undone.stderr + cluster.logs()).toBe(0);
    expect((await record(id)).state).toBe('undone');
    for (const files of Object.values(g)) expect(new Set(files.map(ino)).size).toBe(files.length);
    expect(snapshot(dir)).toEqual(before);
    expect(fs.existsSync(path.join(a, '.filer-quarantine', id))).toBe(false);
  }, 60_000);

  it('removes copies into the quarantine (same inode) and puts them back on undo', async () => {
    const dir = path.join(base, 'remove');
    const g = writeTree(dir);
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    const before = snapshot(dir);
    const inodes = new Map(
      Object.values(g)
        .flat()
        .map((p) => [p, ino(p)]),
    );
    // b is a reference root: only copies in a go; in `three` the copy in b is kept.
    const res = await submit({ kind: 'dupes', roots: [a, b], options: { action: 'remove', reference: [b] }, apply: true });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const rec = await until(id, ['completed', 'failed']);
    expect(rec.state, cluster.logs()).toBe('completed');
    const gone = [g.one[0], g.one[2], g.two[0], g.three[0]];
    expect(rec.apply!.done).toBe(gone.length);
    for (const p of gone) {
      expect(fs.existsSync(p), p).toBe(false);
      const q = path.join(a, '.filer-quarantine', id, path.relative(a, p));
      expect(fs.statSync(q).ino, q).toBe(inodes.get(p));
    }
    for (const p of [g.one[1], g.two[1], g.three[1]]) expect(ino(p)).toBe(inodes.get(p));
    const report = await results(id);
    expect(report.map((r) => [r.action, r.source, r.state]).sort()).toEqual(gone.map((p) => ['remove', p, 'done']).sort());

    const undo = await cluster.request('POST', `/v1/jobs/${id}/undo`, { token: cluster.tokens.write });
    expect(undo.status, await undo.clone().text()).toBe(202);
    expect((await until(id, ['undone', 'failed'])).state).toBe('undone');
    expect(snapshot(dir)).toEqual(before);
    for (const p of gone) expect(ino(p)).toBe(inodes.get(p));
    // The quarantine the apply made (its shards shared it) is gone with the last copy put back.
    expect(fs.existsSync(path.join(a, '.filer-quarantine'))).toBe(false);

    // The job database: the record with its request, and every copy's outcome under its op.
    const row = await db.query<{ action: string; reference: string[]; state: string }>(
      `SELECT record->'spec'->'options'->>'action' AS action, record->'spec'->'options'->'reference' AS reference, state FROM jobs WHERE id = $1`,
      [id],
    );
    expect(row.rows).toEqual([{ action: 'remove', reference: [b], state: 'undone' }]);
    const items = await cluster.request('GET', `/v1/items?path=${encodeURIComponent(gone[0])}`, { token: cluster.tokens.read });
    expect(items.status).toBe(200);
    const outcomes = ((await items.json()) as { items: { jobId: string; phase: string; action: string; state: string }[] }).items;
    expect(outcomes.map((i) => [i.jobId, i.phase, i.action, i.state]).sort()).toEqual([
      [id, 'apply', 'remove', 'done'],
      [id, 'undo', 'remove', 'undone'],
    ]);
  }, 60_000);

  it('purges the quarantine of an applied remove: the copies are gone for good, and undo is refused', async () => {
    const dir = path.join(base, 'purge');
    const g = writeTree(dir);
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    const applied = await filer(['dupes', a, b, '--action', 'remove', '--keep', 'first-root', '--apply']);
    expect(applied.code, applied.stderr + cluster.logs()).toBe(0);
    const id = jobIdOf(applied);
    // first-root: a's first copy of each group stays; the others go to their root's quarantine.
    const gone = [g.one[1], g.one[2], g.two[1], g.three[1]];
    const inQuarantine = (p: string): string => {
      const root = p.startsWith(a + '/') ? a : b;
      return path.join(root, '.filer-quarantine', id, path.relative(root, p));
    };
    const quarantined = gone.map(inQuarantine);
    for (const q of quarantined) expect(fs.existsSync(q), q).toBe(true);
    const bytes = quarantined.reduce((n, q) => n + fs.statSync(q).size, 0);

    const purged = await filer(['jobs', 'purge', id]);
    expect(purged.code, purged.stderr + cluster.logs()).toBe(0);
    expect(purged.stderr).toContain(`filer: job ${id} purged: 4 quarantined copies`);
    const rec = (await record(id)) as Rec & { purge?: { removed: number; bytes: number; left: number } };
    expect(rec.state).toBe('purged');
    expect(rec.purge).toEqual({ removed: 4, bytes, left: 0 });
    for (const p of [...gone, ...quarantined]) expect(fs.existsSync(p), p).toBe(false);
    for (const root of [a, b]) expect(fs.existsSync(path.join(root, '.filer-quarantine'))).toBe(false);
    for (const p of [g.one[0], g.two[0], g.three[0]]) expect(fs.existsSync(p), p).toBe(true);

    const undo = await filer(['jobs', 'undo', id]);
    expect(undo.code).not.toBe(0);
    expect(undo.stderr).toMatch(/purged.*nothing to undo/);
  }, 60_000);

  it('moves copies under --move-to (their path below their root kept) and back on undo', async () => {
    const dir = path.join(base, 'move-to');
    const g = writeTree(dir);
    const [a, b, to] = [path.join(dir, 'a'), path.join(dir, 'b'), path.join(dir, 'dupes')];
    const before = snapshot(dir);
    const applied = await filer(['dupes', a, b, '--action', 'move-to', '--move-to', to, '--keep', 'shortest-path', '--apply']);
    expect(applied.code, applied.stderr + cluster.logs()).toBe(0);
    const id = jobIdOf(applied);
    // shortest-path: a/two.bin, a/three.dat and a/x/one.txt stay.
    const moved = [g.one[1], g.one[2], g.two[1], g.three[1]];
    for (const p of moved) {
      const root = p.startsWith(a + '/') ? a : b;
      expect(fs.existsSync(p), p).toBe(false);
      expect(sha256(path.join(to, path.relative(root, p)))).toBe(
        sha256(g.one.includes(p) ? g.one[0] : p === g.two[1] ? g.two[0] : g.three[0]),
      );
    }
    const undone = await filer(['jobs', 'undo', id]);
    expect(undone.code, undone.stderr + cluster.logs()).toBe(0);
    expect(snapshot(dir)).toEqual(before);
  }, 60_000);

  it('survives the batch worker SIGKILLed mid-apply: every copy linked once, and the undo is exact', async () => {
    const PAIRS = 80;
    const dir = path.join(base, 'killed');
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    for (let i = 0; i < PAIRS; i++)
      for (const root of [a, b]) {
        const p = path.join(root, `d${i % 7}`, `f${i}.dat`);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        // A size of its own per pair: every pair is a hash shard and a group.
        fs.writeFileSync(p, crypto.createHash('sha256').update(`pair ${i}`).digest('hex').repeat(20) + 'x'.repeat(i));
      }
    const before = snapshot(dir);
    const res = await submit({ kind: 'dupes', roots: [a, b], options: { action: 'hardlink', keep: ['first-root'] }, apply: true });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const quarantine = path.join(b, '.filer-quarantine', id);
    const inQuarantine = (): number =>
      fs.existsSync(quarantine) ? execFileSync('find', [quarantine, '-type', 'f']).toString().split('\n').length - 1 : 0;
    const deadline = Date.now() + 60_000;
    while (inQuarantine() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const batch = cluster.workers.find((w) => w.name === 'batch-1')!;
    await batch.kill('SIGKILL');
    const atCrash = inQuarantine();
    await batch.restart();
    const done = await until(id, ['completed', 'failed']);
    expect(done.state, cluster.logs().slice(-3000)).toBe('completed');
    expect(atCrash).toBeGreaterThan(0);
    expect(atCrash).toBeLessThan(PAIRS); // the kill landed mid-apply
    expect(done.apply).toMatchObject({ done: PAIRS, failed: 0, pending: 0 });
    expect(inQuarantine()).toBe(PAIRS);
    for (let i = 0; i < PAIRS; i++) {
      const rel = path.join(`d${i % 7}`, `f${i}.dat`);
      expect(ino(path.join(b, rel)), rel).toBe(ino(path.join(a, rel)));
    }
    const undo = await cluster.request('POST', `/v1/jobs/${id}/undo`, { token: cluster.tokens.write });
    expect(undo.status, await undo.clone().text()).toBe(202);
    expect((await until(id, ['undone', 'failed'])).state).toBe('undone');
    expect(snapshot(dir)).toEqual(before);
  }, 90_000);

  it('fails a copy rewritten between plan and apply with E_CHANGED and leaves its new bytes', async () => {
    const dir = path.join(base, 'changed');
    const g = writeTree(dir);
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    const res = await submit({ kind: 'dupes', roots: [a, b], options: { action: 'hardlink', keep: ['newest'] } });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const rec = await until(id, ['planned', 'failed']);
    expect(rec.state, cluster.logs()).toBe('planned');
    expect(rec.plan).toMatchObject({ actions: 4, groups: 3, skipped: 0 });
    const plan = await results(id);
    expect(plan.find((r) => r.kept === g.one[2])).toMatchObject({ copies: [{ action: 'hardlink' }, { action: 'hardlink' }] });

    // Same size, other bytes, and the mtime put back: only the full compare can tell.
    const victim = g.one[0];
    const st = fs.statSync(victim);
    fs.writeFileSync(victim, 'X'.repeat(st.size));
    fs.utimesSync(victim, st.atime, st.mtime);
    const changed = sha256(victim);
    const apply = await cluster.request('POST', `/v1/jobs/${id}/apply`, { token: cluster.tokens.write });
    expect(apply.status, await apply.clone().text()).toBe(202);
    const done = await until(id, ['completed', 'failed']);
    expect(done.apply).toMatchObject({ done: 3, failed: 1 });
    const line = (await results(id)).find((r) => r.source === victim);
    expect(line).toMatchObject({ state: 'failed', action: 'hardlink' });
    expect(String(line!.reason)).toMatch(/^E_CHANGED: /);
    expect(sha256(victim)).toBe(changed);
    expect(ino(victim)).not.toBe(ino(g.one[2]));
    expect(ino(g.one[1])).toBe(ino(g.one[2]));
    expect(ino(g.two[0])).toBe(ino(g.two[1]));
  }, 60_000);

  it('plans nothing where no two files share a size, and applies nothing', async () => {
    const dir = path.join(base, 'unique');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'one'), '1');
    fs.writeFileSync(path.join(dir, 'two'), '22');
    const planned = await filer(['dupes', dir, '--action', 'remove']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toBe('plan: 0 copies in 0 groups, 0 B reclaimed, 0 skipped; nothing changed (add --apply to carry it out)\n');
    const applied = await filer(['dupes', dir, '--action', 'remove', '--apply']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(/job [0-9a-z]+ completed: 0 done, 0 undone, 0 failed/);
    expect(fs.readdirSync(dir).sort()).toEqual(['one', 'two']);
  }, 60_000);

  it('answers 400 naming the field for a bad action, keep rule, reference root or move-to, and makes no job', async () => {
    const dir = path.join(base, 'bad');
    writeTree(dir);
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    const jobs = async (): Promise<string[]> =>
      ((await (await cluster.request('GET', '/v1/jobs', { token: cluster.tokens.read })).json()) as { jobs: { id: string }[] }).jobs.map(
        (j) => j.id,
      );
    const before = await jobs();
    for (const [options, field, message] of [
      [{ action: 'explode' }, 'options.action', /invalid action 'explode': expected one of hardlink, symlink/],
      [{ action: 'hardlink', keep: ['newest', 'biggest'] }, 'options.keep.1', /invalid keep rule 'biggest'/],
      [{ action: 'remove', reference: [path.join(dir, 'elsewhere')] }, 'options.reference.0', /./],
      [{ action: 'remove', reference: [a] }, 'options.reference.0', /is not one of the roots/],
      [{ action: 'move-to' }, 'options.moveTo', /needs options.moveTo/],
      [{ action: 'hardlink', moveTo: b }, 'options.moveTo', /is for action move-to/],
      [{ keep: ['newest'] }, 'options.keep', /give options.action too/],
      [{ action: 'move-to', moveTo: '/etc/filer-dupes' }, 'options.moveTo', /./],
    ] as const) {
      const res = await submit({ kind: 'dupes', roots: [b], options });
      expect(res.status, field).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string; fields?: { field: string }[] } };
      expect(body.error.fields?.[0].field, body.error.message).toBe(field);
      expect(body.error.message).toMatch(message);
    }
    const bad = await filer(['dupes', b, '--action', 'hardlink', '--keep', 'biggest']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid keep rule 'biggest'/);
    expect(await jobs()).toEqual(before);
  }, 60_000);
});
