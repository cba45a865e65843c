import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileHashes,
  noiseBytes,
  runFiler,
  runRclone,
  rcloneMd5Listing,
  md5Tree,
  startFaultProxy,
  startS3Server,
  type S3ServerHandle,
} from '@filer/testing';

/** copy / move between local trees and S3 prefixes, checked with rclone (an independent client). */

let server: S3ServerHandle;
let work: string;
let env: Record<string, string>;

const NAMES = ['plain.txt', 'with space.log', 'ünïcode-名前.md', 'deep/er/still/file.bin', 'deep/x.csv'];

/** A tree with odd names, empty files, one file large enough for a multipart upload (20 MB > 16 MiB). */
function makeTree(root: string, count: number, big: boolean): void {
  for (let i = 0; i < count; i++) {
    const rel = `d${i % 7}/${i}-${NAMES[i % NAMES.length]}`;
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), noiseBytes(i % 5 === 0 ? 0 : (i * 997) % 70_000, i));
  }
  if (big) fs.writeFileSync(path.join(root, 'big.bin'), noiseBytes(20_000_000, 99));
}

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-xfer'] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3xfer-'));
  // The CLI's state (jobs, hash cache) in this test's own directory, never the user's.
  env = { ...server.env(), XDG_CACHE_HOME: path.join(work, 'cache') };
});

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('filer copy / move with S3', () => {
  it('round-trips local → S3 → local byte for byte, objects checked by rclone', async () => {
    const src = path.join(work, 'rt-src');
    makeTree(src, 300, true);
    const up = await runFiler(['copy', src, '--dest', 's3://filer-xfer/rt/', '--apply'], { env });
    expect(up.code, up.stderr).toBe(0);
    // rclone: every object, by MD5, and one read back in full.
    expect(await rcloneMd5Listing(server, 's3:filer-xfer/rt')).toEqual(md5Tree(src));
    const cat = await runRclone(server, ['cat', 's3:filer-xfer/rt/big.bin']);
    expect(cat.stdoutBytes.equals(fs.readFileSync(path.join(src, 'big.bin')))).toBe(true);

    const back = path.join(work, 'rt-back');
    const down = await runFiler(['copy', 's3://filer-xfer/rt/', '--dest', back, '--apply', '--verify'], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(fileHashes(back)).toEqual(fileHashes(src));
    // No temporary file left behind.
    expect(fs.readdirSync(back, { recursive: true }).some((n) => String(n).endsWith('.tmp'))).toBe(false);

    // Again: every target exists now, so nothing is overwritten and the plan says so.
    const again = await runFiler(['copy', src, '--dest', 's3://filer-xfer/rt/', '--apply'], { env });
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(/target-exists/);
  }, 300_000);

  it('uploads with a PUT and its verifying HEAD per object; FILER_S3_HEAD_GUARD=true adds a HEAD before each PUT', async () => {
    const src = path.join(work, 'req-src');
    makeTree(src, 12, false);
    const files = Object.keys(md5Tree(src));
    const proxy = await startFaultProxy({ target: server.endpoint, failRate: 0 });
    try {
      const perKey = async (dest: string, extra: Record<string, string>): Promise<Record<string, string>> => {
        proxy.log.length = 0;
        const r = await runFiler(['copy', src, '--dest', `s3://filer-xfer/${dest}/`, '--apply'], {
          env: { ...env, ...server.env(proxy.endpoint), ...extra },
        });
        expect(r.code, r.stderr).toBe(0);
        const out: Record<string, string> = {};
        for (const e of proxy.log) {
          const key = decodeURIComponent(e.url.split('?')[0]);
          if (key.startsWith(`/filer-xfer/${dest}/`)) out[key] = out[key] === undefined ? e.method : `${out[key]} ${e.method}`;
        }
        return out;
      };
      const plain = await perKey('req-a', {});
      expect(Object.keys(plain).length).toBe(files.length);
      for (const seq of Object.values(plain)) expect(seq).toBe('PUT HEAD');
      const guarded = await perKey('req-b', { FILER_S3_HEAD_GUARD: 'true' });
      for (const seq of Object.values(guarded)) expect(seq).toBe('HEAD PUT HEAD');
      const bad = await runFiler(['copy', src, '--dest', 's3://filer-xfer/req-c/', '--apply'], {
        env: { ...env, FILER_S3_HEAD_GUARD: 'sometimes' },
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('FILER_S3_HEAD_GUARD');
    } finally {
      await proxy.stop();
    }
    expect(await rcloneMd5Listing(server, 's3:filer-xfer/req-a')).toEqual(md5Tree(src));
  }, 300_000);

  it('moves S3 → S3 through a faulty proxy: complete, and each source deleted only after its copy was verified', async () => {
    const src = path.join(work, 'mv-src');
    makeTree(src, 120, false);
    expect((await runFiler(['copy', src, '--dest', 's3://filer-xfer/mv-a', '--apply'], { env })).code).toBe(0);
    const proxy = await startFaultProxy({ target: server.endpoint, failRate: 0.1, seed: 3 });
    try {
      const r = await runFiler(['move', 's3://filer-xfer/mv-a/', '--dest', 's3://filer-xfer/mv-b/', '--apply'], {
        env: { ...env, ...server.env(proxy.endpoint), FILER_S3_MAX_ATTEMPTS: '10', FILER_S3_TIMEOUT_MS: '10000' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.log.some((e) => e.outcome !== 'forwarded')).toBe(true);
      // Per key, from what the server answered: the target's copy and its verifying HEAD come before the source's DELETE.
      const served = proxy.log.filter((e) => e.outcome === 'forwarded' && (e.status ?? 500) < 300);
      const keyOf = (url: string): string => decodeURIComponent(url.split('?')[0]);
      for (const rel of Object.keys(md5Tree(src))) {
        const from = `/filer-xfer/mv-a/${rel}`;
        const to = `/filer-xfer/mv-b/${rel}`;
        const del = served.findIndex((e) => e.method === 'DELETE' && keyOf(e.url) === from);
        const put = served.findIndex((e) => e.method === 'PUT' && keyOf(e.url) === to);
        const head = served.findLastIndex((e, i) => i < del && e.method === 'HEAD' && keyOf(e.url) === to);
        expect(del, rel).toBeGreaterThan(-1);
        expect(put, rel).toBeGreaterThan(-1);
        expect(put, rel).toBeLessThan(del);
        expect(head, rel).toBeGreaterThan(put);
      }
    } finally {
      await proxy.stop();
    }
    expect(await rcloneMd5Listing(server, 's3:filer-xfer/mv-b')).toEqual(md5Tree(src));
    expect(await rcloneMd5Listing(server, 's3:filer-xfer/mv-a')).toEqual({});
  }, 300_000);

  it('moves local → S3 and S3 → local through a faulty proxy, sources gone only once the targets are there', async () => {
    const src = path.join(work, 'mv2-src');
    makeTree(src, 150, true);
    const want = md5Tree(src);
    const wantSha = fileHashes(src);
    const proxy = await startFaultProxy({ target: server.endpoint, failRate: 0.1, seed: 11 });
    const faulty = { ...env, ...server.env(proxy.endpoint), FILER_S3_MAX_ATTEMPTS: '10', FILER_S3_TIMEOUT_MS: '10000' };
    try {
      const up = await runFiler(['move', src, '--dest', 's3://filer-xfer/mv2/', '--apply'], { env: faulty });
      expect(up.code, up.stderr).toBe(0);
      expect(await rcloneMd5Listing(server, 's3:filer-xfer/mv2')).toEqual(want);
      expect(fs.readdirSync(src, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())).toEqual([]);

      const back = path.join(work, 'mv2-back');
      const down = await runFiler(['move', 's3://filer-xfer/mv2/', '--dest', back, '--apply'], { env: faulty });
      expect(down.code, down.stderr).toBe(0);
      expect(fileHashes(back)).toEqual(wantSha);
      expect(await rcloneMd5Listing(server, 's3:filer-xfer/mv2')).toEqual({});
    } finally {
      await proxy.stop();
    }
  }, 300_000);

  it('keeps the source when the S3 target appears between plan and apply (s3rver ignores If-None-Match: the apply lists the destination again)', async () => {
    const src = path.join(work, 'race-src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a.txt'), 'mine');
    // The plan sees no target (planned, not applied), then someone else writes it.
    const planOnly = await runFiler(['move', src, '--dest', 's3://filer-xfer/race/'], { env });
    expect(planOnly.code).toBe(0);
    fs.writeFileSync(path.join(work, 'theirs.txt'), 'theirs');
    expect((await runRclone(server, ['copyto', path.join(work, 'theirs.txt'), 's3:filer-xfer/race/a.txt'])).code).toBe(0);
    const r = await runFiler(['move', src, '--dest', 's3://filer-xfer/race/', '--apply'], { env });
    expect(r.code).toBe(3); // the planner sees it now
    expect(fs.readFileSync(path.join(src, 'a.txt'), 'utf8')).toBe('mine');
    expect((await runRclone(server, ['cat', 's3:filer-xfer/race/a.txt'])).stdout).toBe('theirs');
  });
});
