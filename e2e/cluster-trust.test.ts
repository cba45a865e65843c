import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, startStubS3, type ClusterHandle, type StubS3 } from '@filer/testing';

/**
 * The Trust issue's holes, through the cluster (real API, workers and redis-server as processes;
 * a stub S3 endpoint that serves keys no real store here can hold): a template that resolves
 * outside its root, an S3 key that would leave the destination, a source changed between plan
 * and apply, a destination edited before an undo — the cluster plans, applies and undoes with
 * the same engine as the CLI, so each hole is closed here too.
 */

interface Job {
  id: string;
  state: string;
  message?: string;
  plan?: { actions: number; conflicts: number };
  apply?: { done: number; failed: number; undone: number };
  counters: { errors: number; errorsByCode: Record<string, number> };
  errorSample: { path: string; code: string; message: string }[];
}

let cluster: ClusterHandle;
let stub: StubS3;
let base: string;

const GOOD = { 'ok/one.txt': 'one', 'ok/two.txt': 'two' };
const BAD = { 'a/../../escape.txt': 'escape', '/abs.txt': 'absolute', 'b//c.txt': 'empty segment', 'd/./e.txt': 'dot segment' };

beforeAll(async () => {
  stub = await startStubS3({ hostile: { ...GOOD, ...BAD } });
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-cluster-trust-')));
  fs.mkdirSync(path.join(base, 'allowed'));
  cluster = await startCluster({
    allowedRoots: [path.join(base, 'allowed')],
    env: { ...stub.env(), FILER_ALLOWED_S3: 'hostile', FILER_LOCK_DURATION_MS: '2000', FILER_STALLED_INTERVAL_MS: '1000' },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await stub?.stop();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

async function submit(spec: unknown): Promise<Job> {
  const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: spec });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Job;
}

async function post(id: string, verb: 'apply' | 'undo'): Promise<void> {
  const res = await cluster.request('POST', `/v1/jobs/${id}/${verb}`, { token: cluster.tokens.write });
  expect(res.status, await res.clone().text()).toBe(202);
}

async function waitFor(id: string, states: string[], timeoutMs = 60_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as Job;
    if (states.includes(job.state)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} is ${job.state}, not ${states.join('|')}: ${job.message}\n${cluster.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function results(id: string): Promise<Record<string, unknown>[]> {
  const res = await cluster.request('GET', `/v1/jobs/${id}/results?format=ndjson`, { token: cluster.tokens.read });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const p = path.join(dir, rel);
    const st = fs.lstatSync(p);
    out[rel] = st.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : st.isFile() ? fs.readFileSync(p, 'utf8') : '<dir>';
  }
  return out;
}

describe('the cluster keeps the Trust rules', () => {
  it('a rename template that resolves outside the file’s root (absolute, or through a symlink) is a conflict; nothing is applied', async () => {
    const allowed = path.join(base, 'allowed');
    const root = path.join(allowed, 'photos');
    writeTree(root, { 'a.jpg': 'a', 'b.jpg': 'b' });
    fs.mkdirSync(path.join(allowed, 'elsewhere'));
    fs.symlinkSync(path.join(allowed, 'elsewhere'), path.join(root, 'out'));
    const before = tree(allowed);
    for (const to of [`${allowed}/elsewhere/{name}`, 'out/{name}']) {
      const job = await submit({ kind: 'rename', roots: [root], options: { to }, apply: true });
      const planned = await waitFor(job.id, ['planned', 'failed']);
      expect(planned.state, to).toBe('planned');
      expect(planned.plan, to).toMatchObject({ actions: 0, conflicts: 2 });
      const lines = await results(job.id);
      expect(lines.map((l) => [l.action, l.kind, l.target])).toEqual([
        ['conflict', 'outside-root', path.join(allowed, 'elsewhere/a.jpg')],
        ['conflict', 'outside-root', path.join(allowed, 'elsewhere/b.jpg')],
      ]);
    }
    expect(tree(allowed)).toEqual(before);
  });

  it('S3 keys that would leave the destination fail alone (E_UNSAFE_KEY); the rest are copied; nothing is read for them', async () => {
    const dest = path.join(base, 'allowed', 'download');
    stub.requests.length = 0;
    const job = await submit({ kind: 'copy', roots: ['s3://hostile/'], options: { dest }, apply: true });
    const done = await waitFor(job.id, ['completed', 'failed']);
    expect(done.counters.errorsByCode.E_UNSAFE_KEY, JSON.stringify(done)).toBe(4);
    expect(
      done.errorSample
        .filter((e) => e.code === 'E_UNSAFE_KEY')
        .map((e) => e.path)
        .sort(),
    ).toEqual(
      Object.keys(BAD)
        .map((k) => `s3://hostile/${k}`)
        .sort(),
    );
    expect(done.apply).toMatchObject({ done: 2, failed: 0 });
    expect(tree(dest)).toEqual({ ok: '<dir>', 'ok/one.txt': 'one', 'ok/two.txt': 'two' });
    expect(fs.existsSync(path.join(base, 'escape.txt'))).toBe(false);
    const touched = stub.requests.filter((r) => Object.keys(BAD).includes(r.key) && r.method !== 'HEAD');
    expect(touched).toEqual([]);
  });

  it('a source replaced between the plan and the apply is not renamed (E_CHANGED in the report); the others are', async () => {
    const root = path.join(base, 'allowed', 'changing');
    writeTree(root, { 'a.txt': 'a', 'b.txt': 'b' });
    const job = await submit({ kind: 'rename', roots: [root], options: { to: 'k_{name}' } });
    await waitFor(job.id, ['planned']);
    // Same name, same size: only the identity journaled with the plan tells it is another file.
    fs.rmSync(path.join(root, 'a.txt'));
    fs.writeFileSync(path.join(root, 'a.txt'), 'z');
    await post(job.id, 'apply');
    const done = await waitFor(job.id, ['completed', 'failed']);
    expect(done.apply).toMatchObject({ done: 1, failed: 1 });
    const report = await results(job.id);
    const a = report.find((l) => l.source === path.join(root, 'a.txt'))!;
    expect(a.state).toBe('failed');
    expect(String(a.reason)).toMatch(/^E_CHANGED/);
    expect(tree(root)).toEqual({ 'a.txt': 'z', 'k_b.txt': 'b' });
  });

  it('undo of a move leaves a destination file edited since the move in place, and reports it', async () => {
    const src = path.join(base, 'allowed', 'move-src');
    const dest = path.join(base, 'allowed', 'move-dest');
    writeTree(src, { 'a.txt': 'a', 'b.txt': 'b' });
    const job = await submit({ kind: 'move', roots: [src], options: { dest }, apply: true });
    await waitFor(job.id, ['completed']);
    fs.appendFileSync(path.join(dest, 'a.txt'), ' edited');
    await post(job.id, 'undo');
    const undone = await waitFor(job.id, ['undone', 'failed']);
    expect(undone.apply).toMatchObject({ undone: 1 });
    const report = await results(job.id);
    const a = report.find((l) => l.target === path.join(dest, 'a.txt'))!;
    expect(a.state).toBe('done');
    expect(String(a.reason)).toContain('undo: the file at the target changed since it was moved there');
    expect(tree(dest)).toEqual({ 'a.txt': 'a edited' });
    expect(tree(src)).toEqual({ 'b.txt': 'b' });
  });
});
