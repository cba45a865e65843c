import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runFiler,
  runRclone,
  uploadWithRclone,
  startCluster,
  startS3Server,
  type ClusterHandle,
  type S3ServerHandle,
} from '@filer/testing';

/*
 * S3 prefixes through the cluster (real redis-server, API and workers as processes, s3rver on
 * loopback): every result is compared with the in-process CLI's over the same prefix, and what the
 * cluster wrote to S3 is checked with rclone, an independent client.
 */

const BUCKET = 'cluster-s3';
/** 10 × 10 prefixes of 20 objects, two levels below tree/ (nothing directly under tree/ itself). */
const TOPS = 10;
const SUBS = 10;
const PER_DIR = 20;
const FILES = TOPS * SUBS * PER_DIR;

let server: S3ServerHandle;
let cluster: ClusterHandle;
let work: string;
let env: Record<string, string>;

/** A third of the files share their content; same-size decoys differ in their last byte; 20 KiB files whole-hashed. */
function writeTree(root: string): void {
  let i = 0;
  for (let t = 0; t < TOPS; t++)
    for (let s = 0; s < SUBS; s++) {
      const dir = path.join(root, `t${t}`, `s${s}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < PER_DIR; f++, i++) {
        const shared = `shared content ${String(i % 97).padStart(3, '0')}\n`;
        const content = i % 3 === 0 ? shared : i % 101 === 1 ? shared.slice(0, -1) + 'X' : `unique content ${i} ${'x'.repeat(i % 50)}\n`;
        fs.writeFileSync(path.join(dir, `f${f}${i % 4 === 0 ? '.csv' : '.txt'}`), content);
      }
    }
  const big = crypto.randomBytes(20 * 1024);
  fs.writeFileSync(path.join(root, 't0', 's0', 'big-a.bin'), big);
  fs.writeFileSync(path.join(root, 't1', 's1', 'big-b.bin'), big);
  big[10_000] ^= 1; // same size, same head and tail: only a whole hash tells it apart
  fs.writeFileSync(path.join(root, 't2', 's2', 'big-c.bin'), big);
}

/** A small tree of varied sizes for the transfers, one file of 3 MB. */
function writeSmallTree(root: string): void {
  for (let i = 0; i < 40; i++) {
    const dir = path.join(root, `d${i % 4}`, i % 2 === 0 ? 'even' : 'odd');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `file ${i}.dat`), crypto.randomBytes(i * 997));
  }
  fs.writeFileSync(path.join(root, 'large.bin'), crypto.randomBytes(3 * 1024 * 1024));
}

/** Every file below `root`: relative path → sha256. */
function localHashes(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else out.push(`${path.relative(root, p)}\t${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
    }
  };
  walk(root);
  return out.sort();
}

const sortedLines = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .sort();

const local = (args: string[]) => runFiler(args, { env, timeoutMs: 120_000 });
const remote = (args: string[]) =>
  runFiler(['--server', cluster.url, '--token', cluster.tokens.write, ...args], { env: {}, timeoutMs: 120_000 });

async function waitFor(id: string, states: string[]): Promise<Record<string, unknown>> {
  for (;;) {
    const rec = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Record<string, unknown>;
    if (states.includes(rec.state as string)) return rec;
    if (['failed', 'cancelled'].includes(rec.state as string)) throw new Error(`job ${id} ${String(rec.state)}: ${String(rec.message)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  env = server.env();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-cluster-s3-'));
  const tree = path.join(work, 'tree');
  writeTree(tree);
  await uploadWithRclone(server, tree, `s3:${BUCKET}/tree/`);
  fs.mkdirSync(path.join(work, 'allowed'));
  cluster = await startCluster({
    allowedRoots: [path.join(work, 'allowed')],
    // A small budget spreads the prefixes over many shards and both scanners.
    // Short locks: a killed scanner's shards are taken back within seconds (and a slow shard may run twice, which must not matter).
    env: {
      ...env,
      FILER_ALLOWED_S3: `${BUCKET}/tree,${BUCKET}/up`,
      FILER_SHARD_BUDGET: '100',
      FILER_BATCH_SHARD_SIZE: '300',
      FILER_LOCK_DURATION_MS: '2000',
      FILER_STALLED_INTERVAL_MS: '1000',
    },
  });
}, 400_000);

afterAll(async () => {
  await cluster?.stop();
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('S3 prefixes through the cluster', () => {
  it('find: prefixes as shards, the same records as the in-process find', async () => {
    const root = `s3://${BUCKET}/tree/`;
    const [a, b] = [await local(['find', root, '--format', 'ndjson']), await remote(['find', root, '--format', 'ndjson'])];
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toBe('');
    const records = sortedLines(a.stdout);
    expect(records.length).toBe(FILES + 3);
    expect(sortedLines(b.stdout)).toEqual(records);

    const filtered = ['find', root, '--ext', 'csv', '--min-size', '20', '--sort', 'path'];
    const [fa, fb] = [await local(filtered), await remote(filtered)];
    expect(fb.code, fb.stderr).toBe(0);
    expect(fb.stdout).toBe(fa.stdout);
    expect(fa.stdout.split('\n').length).toBeGreaterThan(100);

    // The job record: many shards, exact totals.
    const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: { kind: 'find', roots: [root] } });
    expect(res.status).toBe(202);
    const rec = (await waitFor(((await res.json()) as { id: string }).id, ['completed'])) as {
      shards: { total: number };
      counters: { matched: number; dirs: number };
    };
    expect(rec.shards.total).toBeGreaterThan(10);
    expect(rec.counters.matched).toBe(FILES + 3);
    expect(rec.counters.dirs).toBe(1 + TOPS + TOPS * SUBS);
  });

  it('manifest: a job over a prefix gives the find records', async () => {
    const root = `s3://${BUCKET}/tree/t3`;
    const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: { kind: 'manifest', roots: [root] } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(id, ['completed']);
    const body = await (await cluster.request('GET', `/v1/jobs/${id}/results?format=ndjson`, { token: cluster.tokens.read })).text();
    const expected = await local(['find', root, '--format', 'ndjson']);
    expect(sortedLines(body)).toEqual(sortedLines(expected.stdout));
    expect(sortedLines(body).length).toBe(SUBS * PER_DIR);
  });

  it('filer --server manifest (and --hash): the cluster lists and hashes, the CLI writes the same manifest as in-process', async () => {
    const root = `s3://${BUCKET}/tree/t5`;
    const [mine, theirs] = [path.join(work, 'manifest-local.csv'), path.join(work, 'manifest-cluster.csv')];
    const a = await local(['manifest', root, '--ext', 'csv', '--out', mine]);
    const b = await remote(['manifest', root, '--ext', 'csv', '--out', theirs]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const text = fs.readFileSync(mine, 'utf8');
    expect(text.split('\n').length).toBeGreaterThan(40);
    expect(fs.readFileSync(theirs, 'utf8')).toBe(text);
    // With --hash the cluster hashes too (ranged GETs, over several hash shards): the same sha256 column.
    const [mineHashed, theirsHashed] = [path.join(work, 'manifest-local-hash.csv'), path.join(work, 'manifest-cluster-hash.csv')];
    const c = await local(['manifest', root, '--ext', 'csv', '--hash', '--out', mineHashed]);
    const d = await remote(['manifest', root, '--ext', 'csv', '--hash', '--out', theirsHashed]);
    expect(c.code, c.stderr).toBe(0);
    expect(d.code, d.stderr).toBe(0);
    const hashedText = fs.readFileSync(mineHashed, 'utf8');
    expect(hashedText.split('\n')[0]).toBe('path,type,size,mtime,sha256');
    expect(fs.readFileSync(theirsHashed, 'utf8')).toBe(hashedText);
  });

  it('refuses S3 paths outside FILER_ALLOWED_S3, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ kind: 'find', roots: [`s3://${BUCKET}/elsewhere/`] }, 'roots.0'],
      [{ kind: 'find', roots: [`s3://${BUCKET}/tree/`, 's3://other-bucket/x/'] }, 'roots.1'],
      [{ kind: 'find', roots: [`s3://${BUCKET}/tree-old/`] }, 'roots.0'],
      [{ kind: 'copy', roots: [`s3://${BUCKET}/tree/`], options: { dest: `s3://${BUCKET}/out/` } }, 'options.dest'],
      [{ kind: 'copy', roots: [`s3://${BUCKET}/tree/t1`], options: { dest: `s3://${BUCKET}/tree/t1/again` } }, 'options.dest'],
      [{ kind: 'dupes', roots: [`s3://${BUCKET}/tree/`, path.join(work, 'allowed')] }, 'roots.1'],
    ];
    for (const [body, field] of cases) {
      const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = (await res.json()) as { error: { fields?: { field: string }[] } };
      expect(err.error.fields?.[0]?.field, JSON.stringify(body)).toBe(field);
    }
  });

  it('dupes: the same groups as the in-process run', async () => {
    const root = `s3://${BUCKET}/tree/`;
    const a = await local(['dupes', root, '--format', 'ndjson']);
    const b = await remote(['dupes', root, '--format', 'ndjson']);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const groups = a.stdout.split('\n').filter((l) => l !== '');
    expect(groups.length).toBe(98); // 97 shared contents and the 20 KiB pair
    expect(b.stdout).toBe(a.stdout);
  });

  it('copy local → S3, checked byte for byte by rclone; move S3 → local leaves no source object', async () => {
    const src = path.join(work, 'allowed', 'src');
    writeSmallTree(src);
    const up = await remote(['copy', src, '--dest', `s3://${BUCKET}/up/copied/`, '--apply']);
    expect(up.code, up.stderr).toBe(0);
    const check = await runRclone(server, ['check', '--download', src, `s3:${BUCKET}/up/copied/`]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toMatch(/0 differences found/);
    expect(check.stderr).toMatch(/41 matching files/);

    const back = path.join(work, 'allowed', 'back');
    const down = await remote(['move', `s3://${BUCKET}/up/copied/`, '--dest', back, '--apply']);
    expect(down.code, down.stderr).toBe(0);
    expect(localHashes(back)).toEqual(localHashes(src));
    const left = await runRclone(server, ['lsf', '-R', `s3:${BUCKET}/up/copied/`]);
    expect(left.stdout).toBe('');
  });

  it('copy S3 → S3, server-side', async () => {
    const r = await remote(['copy', `s3://${BUCKET}/tree/t4/s1/`, '--dest', `s3://${BUCKET}/up/s1-copy/`, '--apply']);
    expect(r.code, r.stderr).toBe(0);
    const check = await runRclone(server, ['check', '--download', `s3:${BUCKET}/tree/t4/s1/`, `s3:${BUCKET}/up/s1-copy/`]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toMatch(new RegExp(`\\b${PER_DIR} matching files`));
  });

  it('undo: a copy to S3 is removed, a move from S3 is put back', async () => {
    const src = path.join(work, 'allowed', 'undo-src');
    for (let i = 0; i < 6; i++) {
      fs.mkdirSync(path.join(src, `d${i % 2}`), { recursive: true });
      fs.writeFileSync(path.join(src, `d${i % 2}`, `u${i}.txt`), `undo me ${i}\n`);
    }
    const submit = async (body: unknown): Promise<string> => {
      const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const undo = async (id: string): Promise<Record<string, unknown>> => {
      expect((await cluster.request('POST', `/v1/jobs/${id}/undo`, { token: cluster.tokens.write })).status).toBe(202);
      return waitFor(id, ['undone']);
    };
    const lsf = async (remotePath: string): Promise<string[]> =>
      sortedLines((await runRclone(server, ['lsf', '-R', '--files-only', remotePath])).stdout);

    const copy = await submit({ kind: 'copy', roots: [src], options: { dest: `s3://${BUCKET}/up/undo/` }, apply: true });
    await waitFor(copy, ['completed']);
    expect(await lsf(`s3:${BUCKET}/up/undo/`)).toHaveLength(6);
    const undoneCopy = (await undo(copy)) as { apply: { undone: number } };
    expect(undoneCopy.apply.undone).toBe(6);
    expect(await lsf(`s3:${BUCKET}/up/undo/`)).toEqual([]);
    expect(localHashes(src)).toHaveLength(6);

    expect((await runRclone(server, ['copy', src, `s3:${BUCKET}/up/undo-move/`])).code).toBe(0);
    const down = path.join(work, 'allowed', 'undo-down');
    const move = await submit({ kind: 'move', roots: [`s3://${BUCKET}/up/undo-move/`], options: { dest: down }, apply: true });
    await waitFor(move, ['completed']);
    expect(await lsf(`s3:${BUCKET}/up/undo-move/`)).toEqual([]);
    expect(localHashes(down)).toEqual(localHashes(src));
    const undoneMove = (await undo(move)) as { apply: { undone: number } };
    expect(undoneMove.apply.undone).toBe(6);
    const check = await runRclone(server, ['check', '--download', src, `s3:${BUCKET}/up/undo-move/`]);
    expect(check.code, check.stderr).toBe(0);
    expect(fs.existsSync(down) ? localHashes(down) : []).toEqual([]);
  });

  it('rename on S3: keys renamed below their prefix (copy + verified delete), a leaving template refused, the API undo restores them', async () => {
    const src = path.join(work, 'allowed', 'rename-src');
    for (let i = 0; i < 6; i++) {
      fs.mkdirSync(path.join(src, `d${i % 2}`), { recursive: true });
      fs.writeFileSync(path.join(src, `d${i % 2}`, `r${i}.txt`), `rename me ${i}\n`);
    }
    expect((await runRclone(server, ['copy', src, `s3:${BUCKET}/up/rename/`])).code).toBe(0);
    const submit = async (body: unknown): Promise<string> => {
      const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const lsf = async (): Promise<string[]> =>
      sortedLines((await runRclone(server, ['lsf', '-R', '--files-only', `s3:${BUCKET}/up/rename/`])).stdout);
    const before = await lsf();
    expect(before).toHaveLength(6);

    // A template leaving the prefix: a plan conflict, nothing applied.
    const out = await submit({ kind: 'rename', roots: [`s3://${BUCKET}/up/rename/`], options: { to: '../{name}' }, apply: true });
    expect(await waitFor(out, ['planned'])).toMatchObject({ plan: { actions: 0, conflicts: 6 } });
    expect(await lsf()).toEqual(before);

    const id = await submit({ kind: 'rename', roots: [`s3://${BUCKET}/up/rename/`], options: { to: 'new-{name}' }, apply: true });
    await waitFor(id, ['completed']);
    expect(await lsf()).toEqual(before.map((k) => k.replace(/(^|\/)(r\d\.txt)$/, '$1new-$2')).sort());

    expect((await cluster.request('POST', `/v1/jobs/${id}/undo`, { token: cluster.tokens.write })).status).toBe(202);
    expect(((await waitFor(id, ['undone'])) as { apply: { undone: number } }).apply.undone).toBe(6);
    const restored = await runRclone(server, ['check', '--download', src, `s3:${BUCKET}/up/rename/`]);
    expect(restored.code, restored.stderr).toBe(0);
  });

  it('a missing prefix is the job’s per-path error, as a missing directory is', async () => {
    const r = await remote(['find', `s3://${BUCKET}/tree/nothing-here/`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/nothing-here.*does not exist.*\[E_ROOT_NOT_FOUND\]/);
  });

  it('a scanner SIGKILLed mid-find: the job completes with exactly the in-process records', async () => {
    const root = `s3://${BUCKET}/tree/`;
    const expected = sortedLines((await local(['find', root, '--format', 'ndjson'])).stdout);
    const stalled = cluster.logs().split('shard stalled').length;
    const res = await cluster.request('POST', '/v1/jobs', {
      token: cluster.tokens.write,
      body: { kind: 'find', roots: [root], options: { format: 'ndjson' } },
    });
    const { id } = (await res.json()) as { id: string };
    for (;;) {
      const rec = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as {
        state: string;
        shards: { done: number };
      };
      if (rec.shards.done >= 1 || rec.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const scanner = cluster.workers.find((w) => w.name === 'scanner-1')!;
    await scanner.kill('SIGKILL');
    const rec = (await waitFor(id, ['completed'])) as { counters: { matched: number } };
    await scanner.restart();
    expect(rec.counters.matched).toBe(FILES + 3);
    const body = await (await cluster.request('GET', `/v1/jobs/${id}/results?format=ndjson`, { token: cluster.tokens.read })).text();
    expect(sortedLines(body)).toEqual(expected);
    console.log(`shards taken back from the killed scanner: ${cluster.logs().split('shard stalled').length - stalled}`);
  }, 120_000);
});
