import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSize } from '@filer/core';
import { runFiler, startCluster, startS3Server, uploadWithRclone, type ClusterHandle, type S3ServerHandle } from '@filer/testing';

/*
 * The phases after a cluster's scan, through real processes (redis-server, the API, 2 scanner and
 * 1 batch worker; s3rver on loopback):
 *   - `filer --server … manifest --hash` over a local root and an S3 root writes, byte for byte,
 *     the file the in-process `filer manifest --hash` writes (CSV and NDJSON), its hashes spread
 *     over several hash shards (FILER_BATCH_SHARD_SIZE 7);
 *   - the event stream of a cluster copy carries `progress` events while it applies (and of its
 *     undo while it undoes, of dupes and a hashed manifest while they hash), each with the phase's
 *     files and bytes done of its total, and the apply's totals are the plan's;
 *   - `filer --server … copy --apply --progress` draws the apply phase's line on stderr (not a
 *     terminal here: `--progress` forces it) with the copy's totals in files and bytes.
 */

const BUCKET = 'phases';
const FILES = 240;

let work: string;
let s3: S3ServerHandle;
let s3env: Record<string, string>;
let cluster: ClusterHandle;

/** The sizes of every file below `dir`, added up. */
function treeBytes(dir: string): number {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .reduce((sum, d) => sum + fs.statSync(path.join(d.parentPath, d.name)).size, 0);
}

/** Varied sizes (some empty, some shared contents), a few levels deep, names with spaces and accents. */
function writeTree(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `d${i % 5}`, i % 3 === 0 ? 'deep er' : 'flat', i % 7 === 0 ? 'é' : '');
    fs.mkdirSync(dir, { recursive: true });
    const body =
      i % 11 === 0
        ? ''
        : i % 4 === 0
          ? `shared ${i % 3}\n`
          : crypto
              .createHash('sha256')
              .update(String(i))
              .digest('hex')
              .repeat(i % 40);
    fs.writeFileSync(path.join(dir, `f ${i}.${i % 2 === 0 ? 'txt' : 'dat'}`), body);
  }
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-phases-'));
  const allowed = path.join(work, 'allowed');
  writeTree(path.join(allowed, 'tree'), 60);
  writeTree(path.join(allowed, 'copy-src'), FILES);
  s3 = await startS3Server({ buckets: [BUCKET] });
  s3env = s3.env();
  await uploadWithRclone(s3, path.join(allowed, 'tree'), `s3:${BUCKET}/tree/`);
  fs.mkdirSync(path.join(work, 'out'));
  cluster = await startCluster({
    allowedRoots: [allowed],
    // Small shards: a manifest's hashes spread over several hash shards, a copy over many apply shards.
    env: { ...s3env, FILER_ALLOWED_S3: `${BUCKET}/tree`, FILER_BATCH_SHARD_SIZE: '7' },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await s3?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const local = (args: string[]) => runFiler(args, { env: s3env, timeoutMs: 90_000 });
const remote = (args: string[]) =>
  runFiler(['--server', cluster.url, '--token', cluster.tokens.write, ...args], { env: {}, timeoutMs: 90_000 });

interface JobRecord {
  id: string;
  state: string;
  phase: string;
  plan?: { actions: number; bytes: number };
  progress?: { phase: string; files: number; filesTotal: number; bytes: number; bytesTotal: number };
}
interface Event {
  type: string;
  rec: JobRecord;
}

/** Reads a job's event stream until its `end` event: every record event, in order (`onEvent` sees each as it comes). */
async function events(id: string, onEvent?: (e: Event) => void): Promise<Event[]> {
  const res = await cluster.request('GET', `/v1/jobs/${id}/events`, { token: cluster.tokens.read });
  expect(res.status).toBe(200);
  const out: Event[] = [];
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, at);
      text = text.slice(at + 2);
      const type = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (type === 'end') return out;
      if (type !== undefined && data !== undefined) {
        out.push({ type, rec: JSON.parse(data) as JobRecord });
        onEvent?.(out.at(-1)!);
      }
    }
  }
  throw new Error(`the event stream of job ${id} closed without an end event: ${JSON.stringify(out.map((e) => e.type))}`);
}

async function submit(body: unknown): Promise<string> {
  const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/**
 * Starts a phase (POST …/apply or …/undo) while the batch workers are stopped (SIGSTOP), waits for
 * the event stream's first record (the phase, nothing done yet) and a little longer, then lets the
 * workers go on. The stream reads the record at most every 250 ms, and a phase of 240 small files
 * can end between two reads; this way the first shard to finish is read at once, mid-phase.
 */
async function phaseWithBatchPaused(id: string, action: 'apply' | 'undo'): Promise<Event[]> {
  const batch = cluster.workers.filter((w) => w.name.startsWith('batch'));
  expect(batch.length).toBeGreaterThan(0);
  for (const w of batch) process.kill(w.pid, 'SIGSTOP');
  let stream: Promise<Event[]> | undefined;
  try {
    const res = await cluster.request('POST', `/v1/jobs/${id}/${action}`, { token: cluster.tokens.write });
    expect(res.status, await res.text()).toBe(202);
    let firstSeen!: () => void;
    const first = new Promise<void>((resolve) => (firstSeen = resolve));
    stream = events(id, () => firstSeen());
    await first;
    await new Promise((r) => setTimeout(r, 400));
  } finally {
    for (const w of batch) process.kill(w.pid, 'SIGCONT');
  }
  return stream!;
}

/** The progress events of one phase: present, within their totals, never going back. */
function phaseProgress(all: Event[], state: string, phase: string): NonNullable<JobRecord['progress']>[] {
  const seen = all
    .filter((e) => e.type === 'progress' && e.rec.state === state && e.rec.progress?.phase === phase)
    .map((e) => e.rec.progress!);
  expect(
    seen.length,
    `progress events while ${state} (${phase}): ${JSON.stringify(all.map((e) => [e.type, e.rec.state, e.rec.progress]))}`,
  ).toBeGreaterThan(0);
  for (const [i, p] of seen.entries()) {
    expect(p.files).toBeLessThanOrEqual(p.filesTotal);
    expect(p.bytes).toBeLessThanOrEqual(p.bytesTotal);
    if (i > 0) expect(p.files).toBeGreaterThanOrEqual(seen[i - 1].files);
  }
  expect(seen.some((p) => p.files > 0)).toBe(true);
  return seen;
}

describe('manifest --hash through the cluster', () => {
  for (const [name, rootOf] of [
    ['a local root', () => path.join(work, 'allowed', 'tree')],
    ['an S3 root', () => `s3://${BUCKET}/tree/`],
  ] as const)
    for (const format of ['csv', 'ndjson'])
      it(`writes what the in-process manifest --hash writes: ${name}, ${format}`, async () => {
        const root = rootOf();
        const outs = ['local', 'remote'].map((w) => path.join(work, 'out', `${name.replace(/\W+/g, '-')}.${w}.${format}`));
        const a = await local(['manifest', root, '--hash', '--format', format, '--out', outs[0]]);
        expect(a.code, a.stderr).toBe(0);
        const b = await remote(['manifest', root, '--hash', '--format', format, '--out', outs[1]]);
        expect(b.code, b.stderr + cluster.logs()).toBe(0);
        const [want, got] = outs.map((f) => fs.readFileSync(f, 'utf8'));
        expect(got).toBe(want);
        // Not two empty files: every file below the root, with its digest computed here.
        const rows = want.trim().split('\n');
        expect(rows.length).toBeGreaterThanOrEqual(60);
        const first = path.join(work, 'allowed', 'tree', 'd0', 'deep er', 'é', 'f 0.txt');
        expect(want).toContain(crypto.createHash('sha256').update(fs.readFileSync(first)).digest('hex'));
        expect(want).toContain('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'); // the empty files'
      });

  it('refuses another hash than sha256 for a manifest job, naming the field', async () => {
    const res = await cluster.request('POST', '/v1/jobs', {
      token: cluster.tokens.write,
      body: { kind: 'manifest', roots: [path.join(work, 'allowed', 'tree')], options: { hash: 'xxh128' } },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/options\.hash/);
  });
});

describe('progress in every phase', () => {
  it('a cluster copy sends progress events while it applies, and its undo while it undoes', async () => {
    const dest = path.join(work, 'allowed', 'copy-dest');
    const id = await submit({ kind: 'copy', roots: [path.join(work, 'allowed', 'copy-src')], options: { dest } });
    const planned = await events(id);
    expect(planned.at(-1)?.rec.state).toBe('planned');
    const plan = planned.at(-1)!.rec.plan!;
    expect(plan.actions).toBe(FILES);

    const applied = await phaseWithBatchPaused(id, 'apply');
    expect(applied.at(-1)?.rec.state).toBe('completed');
    const seen = phaseProgress(applied, 'applying', 'apply');
    expect(seen.at(-1)!.filesTotal).toBe(plan.actions);
    expect(seen.at(-1)!.bytesTotal).toBe(plan.bytes);

    const undone = await phaseWithBatchPaused(id, 'undo');
    expect(undone.at(-1)?.rec.state).toBe('undone');
    phaseProgress(undone, 'undoing', 'undo');
  });

  it("the CLI's remote progress line shows the apply phase with the copy's totals", async () => {
    const src = path.join(work, 'allowed', 'copy-src');
    const dest = path.join(work, 'allowed', 'copy-dest-cli');
    const r = await remote(['--progress', 'copy', src, '--dest', dest, '--apply']);
    expect(r.code, r.stderr + cluster.logs()).toBe(0);
    expect(fs.readdirSync(dest, { recursive: true }).length).toBeGreaterThan(0);
    // Each drawing of the line starts with a carriage return and an erase.
    const lines = r.stderr.split('\r\x1b[K').filter((l) => l.startsWith('applying'));
    const total = formatSize(treeBytes(src));
    const apply = new RegExp(
      `^applying \\(apply\\) · shards \\d+/\\d+ · apply (\\d+)/${FILES} files \\((\\d+)%\\) · (.+) of ${total.replace('.', '\\.')} \\((\\d+)%\\)`,
    );
    const matched = lines.map((l) => apply.exec(l)).filter((m) => m !== null);
    expect(matched.length, JSON.stringify(r.stderr)).toBeGreaterThan(0);
    for (const m of matched) {
      expect(Number(m[1])).toBeLessThanOrEqual(FILES);
      expect(Number(m[2])).toBe(Math.floor((Number(m[1]) / FILES) * 100));
      expect(Number(m[4])).toBeLessThanOrEqual(100);
    }
  });

  it('a dupes job sends progress events while it hashes', async () => {
    // sha256 (hashing threads started per shard) keeps the phase longer than the stream's 250 ms between
    // reads; xxh128 in-process hashes these small files in one read's time, and the stream shows only its end.
    const id = await submit({ kind: 'dupes', roots: [path.join(work, 'allowed', 'copy-src')], options: { hash: 'sha256' } });
    const all = await events(id);
    expect(all.at(-1)?.rec.state).toBe('completed');
    const seen = phaseProgress(all, 'running', 'hash');
    // The candidates: every file whose size another file shares.
    expect(seen.at(-1)!.filesTotal).toBeGreaterThan(0);
    expect(seen.at(-1)!.filesTotal).toBeLessThanOrEqual(FILES);
  });

  it('a hashed manifest sends progress events while it hashes', async () => {
    const id = await submit({ kind: 'manifest', roots: [path.join(work, 'allowed', 'copy-src')], options: { hash: 'sha256' } });
    const all = await events(id);
    expect(all.at(-1)?.rec.state).toBe('completed');
    const seen = phaseProgress(all, 'running', 'hash');
    expect(seen.at(-1)!.filesTotal).toBe(FILES);
    // Its results through the API: the find records with their sha256, as NDJSON and as CSV with a sha256 column.
    const get = async (format: string): Promise<string> => {
      const res = await cluster.request('GET', `/v1/jobs/${id}/results?format=${format}`, { token: cluster.tokens.read });
      expect(res.status).toBe(200);
      return res.text();
    };
    const records = (await get('ndjson'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; type: string; sha256: string | null });
    expect(records).toHaveLength(FILES);
    for (const r of records) {
      expect(Object.keys(r)).toEqual(['path', 'type', 'size', 'mtime', 'sha256']);
      expect(r.sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(r.path)).digest('hex'));
    }
    const csv = (await get('csv')).trim().split('\n');
    expect(csv[0]).toBe('path,type,size,mtime,sha256');
    expect(csv).toHaveLength(FILES + 1);
    expect(csv.slice(1).every((row) => /,[0-9a-f]{64}$/.test(row))).toBe(true);
  });
});
