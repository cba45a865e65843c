import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, runRclone, uploadWithRclone, startFaultProxy, startS3Server, type S3ServerHandle } from '@filer/testing';

/** `filer find` over S3 prefixes against s3rver on loopback, checked against the local find and rclone. */

const FILES = 20_000;
let server: S3ServerHandle;
let work: string;
let tree: string;

/** 20,000 files: 20 top directories × 10 subdirectories × 100 files, mixed extensions and sizes, a few hidden. */
function makeTree(root: string): void {
  const exts = ['txt', 'log', 'jpg', 'csv'];
  let n = 0;
  for (let a = 0; a < 20; a++) {
    for (let b = 0; b < 10; b++) {
      const dir = path.join(root, `top-${a}`, `sub ${b}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let c = 0; c < FILES / 200; c++, n++) {
        const name = c % 50 === 0 ? `.hidden-${c}.txt` : `f${c}.${exts[n % exts.length]}`;
        fs.writeFileSync(path.join(dir, name), 'x'.repeat(n % 300));
      }
    }
  }
}

function paths(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

function pathsAndSizes(stdout: string, from: string, to: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { path: string; size: number })
    .map((r) => `${r.path.replace(from, to)}\t${r.size}`)
    .sort();
}

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-find', 'filer-deep'] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3find-'));
  tree = path.join(work, 'tree');
  makeTree(tree);
  // An independent client puts the tree there.
  await uploadWithRclone(server, tree, 's3:filer-find/tree/', { timeoutMs: 600_000 });
}, 900_000);

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('filer find s3://', () => {
  it('lists a prefix of 20,000 objects exactly as the local find lists the tree', async () => {
    const local = await runFiler(['find', tree, '--format', 'ndjson', '--hidden']);
    const remote = await runFiler(['find', 's3://filer-find/tree/', '--format', 'ndjson', '--hidden'], { env: server.env() });
    expect(remote.code, remote.stderr).toBe(0);
    const want = pathsAndSizes(local.stdout, tree + '/', 's3://filer-find/tree/');
    expect(want.length).toBe(FILES);
    expect(pathsAndSizes(remote.stdout, '', '')).toEqual(want);
  }, 300_000);

  it('applies the same filters (extension, size, name glob, exclude, hidden, depth)', async () => {
    const cases = [
      ['--ext', 'log,CSV', '--min-size', '100', '--max-size', '200'],
      ['--name', 'f1*', '--exclude', 'top-1*/sub 3'],
      ['--regex', '^f[0-9]{2}\\.txt$'],
      ['--max-depth', '2', '--type', 'd'],
      ['--newer', '1d'],
    ];
    for (const flags of cases) {
      const local = await runFiler(['find', tree, ...flags]);
      const remote = await runFiler(['find', 's3://filer-find/tree', ...flags], { env: server.env() });
      expect(remote.code, `${flags.join(' ')}: ${remote.stderr}`).toBe(0);
      expect(paths(remote.stdout), flags.join(' ')).toEqual(paths(local.stdout.replaceAll(tree + '/', 's3://filer-find/tree/')));
    }
  }, 300_000);

  it('sorts, limits and notes as the local find does (--sort, --limit, both, --limit 0, --type d note)', async () => {
    const toS3 = (text: string): string => text.replaceAll(tree + '/', 's3://filer-find/tree/');
    const env = server.env();
    const sorted = await runFiler(['find', 's3://filer-find/tree', '--sort', 'path'], { env });
    expect(sorted.code, sorted.stderr).toBe(0);
    expect(sorted.stdout).toBe(toS3((await runFiler(['find', tree, '--sort', 'path'])).stdout));
    // The first 50 by path, with their sizes (mtimes differ: S3 has the upload time).
    const first = ['--sort', 'path', '--limit', '50', '--format', 'ndjson'];
    const local = await runFiler(['find', tree, ...first]);
    const remote = await runFiler(['find', 's3://filer-find/tree', ...first], { env });
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stdout.split('\n').filter(Boolean)).toHaveLength(50);
    expect(pathsAndSizes(remote.stdout, '', '')).toEqual(pathsAndSizes(local.stdout, tree + '/', 's3://filer-find/tree/'));
    const all = new Set(paths(toS3((await runFiler(['find', tree])).stdout)));
    const limited = await runFiler(['find', 's3://filer-find/tree', '--limit', '7'], { env });
    expect(limited.code, limited.stderr).toBe(0);
    expect(paths(limited.stdout)).toHaveLength(7);
    for (const p of paths(limited.stdout)) expect(all.has(p), p).toBe(true);
    const none = await runFiler(['find', 's3://filer-find/tree', '--limit', '0', '--format', 'json'], { env });
    expect([none.code, none.stdout]).toEqual([0, '[]\n']);
    const dirs = await runFiler(['find', 's3://filer-find/tree', '--type', 'd', '--max-depth', '1'], { env });
    expect(dirs.stderr).toContain('filer: note: --type d on S3 lists common prefixes');
    const quiet = await runFiler(['-q', 'find', 's3://filer-find/tree', '--type', 'd', '--max-depth', '1'], { env });
    expect([quiet.code, quiet.stderr, quiet.stdout]).toEqual([0, '', dirs.stdout]);
  }, 300_000);

  it('finds prefixes at the bucket root whose objects are two levels deep (s3rver needed a patch for this)', async () => {
    // s3rver 3.7.1's Delimiter listing omitted `x/` when nothing sits directly under it; the
    // install patches it (scripts/patch-s3rver.mjs). Real S3 lists these; the walk trusts CommonPrefixes.
    const src = path.join(work, 'deep');
    for (const f of ['x/y/z.txt', 'x/y/w/v.txt', 'q/r/s/t.txt', 'top.txt']) {
      fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
      fs.writeFileSync(path.join(src, f), f);
    }
    expect((await runRclone(server, ['copy', src, 's3:filer-deep'])).code).toBe(0);
    const want = ['s3://filer-deep/q/r/s/t.txt', 's3://filer-deep/top.txt', 's3://filer-deep/x/y/w/v.txt', 's3://filer-deep/x/y/z.txt'];
    const r = await runFiler(['find', 's3://filer-deep/'], { env: server.env() });
    expect(r.code, r.stderr).toBe(0);
    expect(paths(r.stdout)).toEqual(want);
    const dirs = await runFiler(['find', 's3://filer-deep', '--type', 'd'], { env: server.env() });
    expect(paths(dirs.stdout)).toEqual(['q', 'q/r', 'q/r/s', 'x', 'x/y', 'x/y/w'].map((d) => `s3://filer-deep/${d}`));
    // rclone agrees on the objects.
    const oracle = await runRclone(server, ['lsf', '-R', '--files-only', 's3:filer-deep']);
    expect(paths(oracle.stdout).map((k) => `s3://filer-deep/${k}`)).toEqual(want);
  });

  it('gives the complete result through a proxy that fails 10% of requests', async () => {
    const proxy = await startFaultProxy({ target: server.endpoint, failRate: 0.1, seed: 7 });
    try {
      const r = await runFiler(['find', 's3://filer-find/tree/', '--format', 'ndjson', '--hidden'], {
        env: { ...server.env(proxy.endpoint), FILER_S3_MAX_ATTEMPTS: '10', FILER_S3_TIMEOUT_MS: '10000' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(pathsAndSizes(r.stdout, '', '').length).toBe(FILES);
      const faults = proxy.log.filter((e) => e.outcome !== 'forwarded');
      expect(faults.some((e) => e.outcome === '503')).toBe(true);
      expect(faults.some((e) => e.outcome === 'dropped')).toBe(true);
    } finally {
      await proxy.stop();
    }
  }, 300_000);

  it('reports a missing bucket, an empty prefix and an object root as input errors', async () => {
    for (const [root, msg] of [
      ['s3://no-such-bucket/', /bucket 'no-such-bucket' does not exist/],
      ['s3://filer-find/nothing-here/', /does not exist: no object under it/],
      ['s3://filer-deep/top.txt', /is an object, not a prefix/],
      ['s3://B/', /invalid bucket name/],
    ] as const) {
      const r = await runFiler(['find', root], { env: server.env() });
      expect(r.code, root).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
