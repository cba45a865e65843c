import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, startStubS3, type StubS3 } from '@filer/testing';

/**
 * Keys that would lead out of --dest if joined as paths (zip-slip), served by a stub S3 endpoint
 * (s3rver stores objects as files and cannot hold them): each such key fails alone with
 * E_UNSAFE_KEY, the others are transferred, nothing is written or requested for the bad ones;
 * find and manifest, which write nothing from keys, list them.
 */

const GOOD = { 'ok/one.txt': 'one', 'ok/two.txt': 'two' };
const BAD = {
  'a/../../escape.txt': 'escape',
  '/abs.txt': 'absolute',
  'b//c.txt': 'empty segment',
  'd/./e.txt': 'dot segment',
  'back\\slash.txt': 'backslash',
};

let stub: StubS3;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  stub = await startStubS3({ hostile: { ...GOOD, ...BAD }, other: {} });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-unsafe-keys-'));
  env = { ...stub.env(), XDG_CACHE_HOME: path.join(work, 'cache') };
});
afterAll(async () => {
  await stub?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const filer = (args: string[]) => runFiler(args, { env, timeoutMs: 60_000 });

/** Every path below `dir`, relative, with file contents. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const p = path.join(dir, rel);
    out[rel] = fs.lstatSync(p).isFile() ? fs.readFileSync(p, 'utf8') : '<dir>';
  }
  return out;
}

function unsafeLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.endsWith('[E_UNSAFE_KEY]'))
    .sort();
}

const requestsFor = (keys: string[]): string[] =>
  stub.requests.filter((r) => r.bucket === 'hostile' && keys.includes(r.key) && r.method !== 'HEAD').map((r) => `${r.method} ${r.key}`);

describe('S3 keys that would leave --dest', () => {
  it('copy S3 → local: each unsafe key fails alone (E_UNSAFE_KEY, exit 1); the rest are copied; nothing outside --dest', async () => {
    const parent = fs.mkdtempSync(path.join(work, 'copy-'));
    const dest = path.join(parent, 'deep', 'dest');
    stub.requests.length = 0;
    const r = await filer(['copy', 's3://hostile/', '--dest', dest, '--apply']);
    expect(r.code, r.stderr).toBe(1);
    const lines = unsafeLines(r.stderr);
    expect(lines).toHaveLength(5);
    for (const key of Object.keys(BAD))
      expect(lines.some((l) => l.includes(JSON.stringify(`s3://hostile/${key}`).slice(1, -1)))).toBe(true);
    expect(r.stderr).toContain('2 done, 0 undone, 0 failed');
    expect(tree(parent)).toEqual({
      deep: '<dir>',
      'deep/dest': '<dir>',
      'deep/dest/ok': '<dir>',
      'deep/dest/ok/one.txt': 'one',
      'deep/dest/ok/two.txt': 'two',
    });
    expect(fs.existsSync(path.join(work, 'escape.txt'))).toBe(false);
    expect(requestsFor(Object.keys(BAD))).toEqual([]);
  });

  it('move S3 → local: the unsafe keys stay where they are; the rest are moved', async () => {
    const dest = fs.mkdtempSync(path.join(work, 'move-'));
    stub.objects.set('hostile', new Map(Object.entries({ ...GOOD, ...BAD }).map(([k, v]) => [k, Buffer.from(v)])));
    stub.requests.length = 0;
    const r = await filer(['move', 's3://hostile/', '--dest', dest, '--apply']);
    expect(r.code, r.stderr).toBe(1);
    expect(unsafeLines(r.stderr)).toHaveLength(5);
    expect(tree(dest)).toEqual({ ok: '<dir>', 'ok/one.txt': 'one', 'ok/two.txt': 'two' });
    expect([...stub.objects.get('hostile')!.keys()].sort()).toEqual(Object.keys(BAD).sort());
    expect(requestsFor(Object.keys(BAD))).toEqual([]);
  });

  it('copy S3 → S3: the unsafe keys fail alone (no longer the whole plan); the rest are copied', async () => {
    stub.objects.set('hostile', new Map(Object.entries({ ...GOOD, ...BAD }).map(([k, v]) => [k, Buffer.from(v)])));
    stub.requests.length = 0;
    const r = await filer(['copy', 's3://hostile/', '--dest', 's3://other/copy/', '--apply']);
    expect(r.code, r.stderr).toBe(1);
    expect(unsafeLines(r.stderr)).toHaveLength(5);
    expect([...stub.objects.get('other')!.keys()].sort()).toEqual(['copy/ok/one.txt', 'copy/ok/two.txt']);
    expect(requestsFor(Object.keys(BAD))).toEqual([]);
    expect(stub.requests.filter((q) => q.method === 'PUT').map((q) => q.key)).toEqual(
      expect.arrayContaining(['copy/ok/one.txt', 'copy/ok/two.txt']),
    );
    // Besides the copies, only the conditional-write probe's own key is written.
    expect(stub.requests.filter((q) => q.method === 'PUT' && !q.key.startsWith('copy/ok/') && !q.key.startsWith('.filer-probe-'))).toEqual(
      [],
    );
  });

  it('find and manifest list every key, the unsafe ones included, and write nothing from them', async () => {
    stub.objects.set('hostile', new Map(Object.entries({ ...GOOD, ...BAD }).map(([k, v]) => [k, Buffer.from(v)])));
    const all = Object.keys({ ...GOOD, ...BAD })
      .map((k) => `s3://hostile/${k}`)
      .sort();
    const find = await filer(['find', 's3://hostile/', '--format', 'ndjson']);
    expect(find.code, find.stderr).toBe(0);
    const found = find.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { path: string }).path)
      .sort();
    expect(found).toEqual(all);
    const out = path.join(work, 'manifest.ndjson');
    const manifest = await filer(['manifest', 's3://hostile/', '--format', 'ndjson', '--out', out]);
    expect(manifest.code, manifest.stderr).toBe(0);
    const listed = fs
      .readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { path: string }).path)
      .sort();
    expect(listed).toEqual(all);
  });
});
