import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseBytes, runFiler, uploadWithRclone, startFaultProxy, startS3Server, type S3ServerHandle } from '@filer/testing';

/**
 * `filer dupes s3://…` against s3rver: the groups (hashes included) must be those of the local
 * `filer dupes` on the tree the prefix was uploaded from (by rclone, an independent client).
 */

let server: S3ServerHandle;
let work: string;
let tree: string;
const PREFIX = 's3://filer-dupes/tree/';

interface Group {
  size: number;
  hash: string;
  wasted: number;
  paths: string[];
}

function write(rel: string, data: Buffer): void {
  const p = path.join(tree, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
}

/** `data` with the byte at `at` changed: same size, same sample when `at` is outside head and tail. */
function flipped(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at] ^= 0xff;
  return copy;
}

/**
 * Small duplicates (read whole in the sample phase), large ones (sampled, then hashed whole),
 * same-size decoys differing in the last byte, the first byte, and the middle (same sample, so only
 * the whole hash tells them apart), empty files, a hidden directory, odd names, and unique noise.
 */
function makeTree(): void {
  for (let i = 0; i < 12; i++) {
    const data = noiseBytes(100 + i * 650, 1000 + i);
    write(`small/a/${i}.txt`, data);
    write(`small/b c/${i}-copy.txt`, data);
    if (i % 3 === 0) write(`ünï/名前-${i}.txt`, data);
    write(`small/decoy/${i}-last.txt`, flipped(data, data.length - 1));
  }
  for (const [k, size] of [50_000, 3_000_000, 8193].entries()) {
    const data = noiseBytes(size, 2000 + k);
    write(`large/${k}/orig.bin`, data);
    write(`large/${k}/copy one.bin`, data);
    write(`other/${k}.bin`, data);
    write(`.hidden/${k}.bin`, data);
    write(`large/${k}/decoy-last.bin`, flipped(data, size - 1));
    write(`large/${k}/decoy-first.bin`, flipped(data, 0));
    write(`large/${k}/decoy-middle.bin`, flipped(data, size >> 1));
  }
  // Two decoys of one another that share a sample but not their middles: never one group.
  const base = noiseBytes(40_000, 77);
  write('mid/x.bin', flipped(base, 20_000));
  write('mid/y.bin', flipped(base, 20_001));
  for (let i = 0; i < 3; i++) write(`empty/e${i}`, Buffer.alloc(0));
  for (let i = 0; i < 150; i++) write(`noise/${i % 5}/n${i}.dat`, noiseBytes(1 + ((i * 7919) % 60_000), 5000 + i));
}

function groups(stdout: string, prefix: string): Group[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Group)
    .map((g) => ({ ...g, paths: g.paths.map((p) => p.slice(prefix.length)).sort() }))
    .sort((a, b) => (a.paths[0] < b.paths[0] ? -1 : 1));
}

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-dupes'] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3dupes-'));
  tree = path.join(work, 'tree');
  makeTree();
  await uploadWithRclone(server, tree, 's3:filer-dupes/tree/', { check: true });
}, 600_000);

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function both(flags: string[], env = server.env()): Promise<{ local: Group[]; remote: Group[]; stderr: string }> {
  const local = await runFiler(['dupes', tree, '--no-cache', '--format', 'ndjson', ...flags]);
  expect(local.code, local.stderr).toBe(0);
  const remote = await runFiler(['dupes', PREFIX, '--format', 'ndjson', ...flags], { env });
  expect(remote.code, remote.stderr).toBe(0);
  return { local: groups(local.stdout, tree + '/'), remote: groups(remote.stdout, PREFIX), stderr: remote.stderr };
}

describe('filer dupes s3://', () => {
  it('finds the groups the local run finds on the same tree, hashes included (xxh128, empty files, hidden)', async () => {
    const { local, remote } = await both(['--hidden', '--include-empty']);
    expect(remote).toEqual(local);
    // The groups the tree was built with: 12 small, 3 large (4 copies each), empty files; no decoy anywhere.
    expect(local.length).toBe(12 + 3 + 1);
    expect(local.flatMap((g) => g.paths).filter((p) => /decoy|^mid\//.test(p))).toEqual([]);
    expect(local.find((g) => g.paths.includes('large/0/orig.bin'))?.paths).toEqual([
      '.hidden/0.bin',
      'large/0/copy one.bin',
      'large/0/orig.bin',
      'other/0.bin',
    ]);
  }, 120_000);

  it('agrees with sha256, with filters and the text report', async () => {
    const { local, remote } = await both(['--hash', 'sha256', '--min-size', '8k', '--exclude', 'other']);
    expect(remote).toEqual(local);
    expect(local.map((g) => g.size).sort((a, b) => a - b)).toEqual([8193, 50_000, 3_000_000]);
    const text = await runFiler(['dupes', PREFIX, '--min-size', '1M'], { env: server.env() });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`${PREFIX}large/1/orig.bin`);
    expect(text.stdout).toMatch(/\b1 groups?, 3 duplicate files/);
  }, 120_000);

  it('gives the same groups through a proxy that fails 10% of requests (503 SlowDown or a dropped connection)', async () => {
    const proxy = await startFaultProxy({ target: server.endpoint, failRate: 0.1, seed: 11 });
    try {
      const { local, remote } = await both(['--hidden'], {
        ...server.env(proxy.endpoint),
        FILER_S3_MAX_ATTEMPTS: '10',
        FILER_S3_TIMEOUT_MS: '10000',
      });
      expect(remote).toEqual(local);
      const failedGets = proxy.log.filter((e) => e.method === 'GET' && e.outcome !== 'forwarded' && !e.url.includes('list-type'));
      expect(failedGets.length).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
    }
  }, 180_000);

  it('refuses mixed local and S3 roots and a missing prefix (exit 2)', async () => {
    const mixed = await runFiler(['dupes', tree, PREFIX], { env: server.env() });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('cannot mix local and S3 roots');
    const missing = await runFiler(['dupes', 's3://filer-dupes/nothing-here/'], { env: server.env() });
    expect(missing.code).toBe(2);
  }, 60_000);
});
