import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseBytes, runFiler, runRclone, uploadWithRclone, startS3Server, type S3ServerHandle } from '@filer/testing';

/** `filer manifest` reading S3 prefixes and writing to S3 keys, checked with rclone and local manifests. */

let server: S3ServerHandle;
let work: string;
let tree: string;
const PREFIX = 's3://filer-man/tree/';
const NAMES = ['plain.txt', 'with space.log', 'ünïcode-名前.md', 'comma,quote".csv', 'deep/er/file.bin'];

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-man'] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3man-'));
  tree = path.join(work, 'tree');
  for (let i = 0; i < 40; i++) {
    const p = path.join(tree, `d${i % 4}`, `${i}-${NAMES[i % NAMES.length]}`);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, noiseBytes(i % 9 === 0 ? 0 : (i * 7919) % 90_000, i));
  }
  fs.writeFileSync(path.join(tree, 'big.bin'), noiseBytes(3_000_000, 7));
  await uploadWithRclone(server, tree, 's3:filer-man/tree/', { check: true });
}, 600_000);

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** ndjson manifest rows → "relative path, size, sha256", sorted (mtimes differ between disk and S3). */
function rows(ndjson: string, prefix: string): string[] {
  return ndjson
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { path: string; size: number; sha256?: string; type: string })
    .map((r) => `${r.path.slice(prefix.length)}\t${r.type}\t${r.size}\t${r.sha256}`)
    .sort();
}

async function rcloneCat(remote: string): Promise<string> {
  const r = await runRclone(server, ['cat', remote]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('filer manifest over S3', () => {
  it('lists a prefix with streamed sha256s equal to the local manifest of the tree, into a local file', async () => {
    const out = path.join(work, 'remote.ndjson');
    const r = await runFiler(['manifest', PREFIX, '--hash', '-f', 'ndjson', '--out', out], { env: server.env() });
    expect(r.code, r.stderr).toBe(0);
    const local = await runFiler(['manifest', tree, '--hash', '-f', 'ndjson', '--out', '-']);
    expect(local.code, local.stderr).toBe(0);
    const remote = rows(fs.readFileSync(out, 'utf8'), PREFIX);
    expect(remote).toEqual(rows(local.stdout, tree + '/'));
    expect(remote.length).toBe(41);
    const big = createHash('sha256').update(noiseBytes(3_000_000, 7)).digest('hex');
    expect(remote).toContain(`big.bin\tfile\t3000000\t${big}`);
  }, 120_000);

  it('writes to s3://bucket/key what it would print, read back with rclone cat (csv from S3, csv of a local tree)', async () => {
    const printed = await runFiler(['manifest', PREFIX, '--hash', '--out', '-'], { env: server.env() });
    expect(printed.code, printed.stderr).toBe(0);
    const put = await runFiler(['manifest', PREFIX, '--hash', '--out', 's3://filer-man/reports/tree.csv'], { env: server.env() });
    expect(put.code, put.stderr).toBe(0);
    expect(put.stderr).toContain('wrote 41 entries to s3://filer-man/reports/tree.csv');
    expect(await rcloneCat('s3:filer-man/reports/tree.csv')).toBe(printed.stdout);
    expect(printed.stdout.split('\n')[0]).toBe('path,type,size,mtime,sha256');
    expect(printed.stdout).toContain(`"${PREFIX}d3/3-comma,quote"".csv"`);

    const localFile = path.join(work, 'local.json');
    const local = await runFiler(['manifest', tree, '-f', 'json', '--out', localFile]);
    expect(local.code, local.stderr).toBe(0);
    const fromLocal = await runFiler(['manifest', tree, '-f', 'json', '--out', 's3://filer-man/reports/local.json'], { env: server.env() });
    expect(fromLocal.code, fromLocal.stderr).toBe(0);
    expect(await rcloneCat('s3:filer-man/reports/local.json')).toBe(fs.readFileSync(localFile, 'utf8'));
  }, 120_000);

  it('never overwrites an object (exit 2, the old one intact); refuses a prefix as --out and a missing bucket', async () => {
    const before = await rcloneCat('s3:filer-man/reports/tree.csv');
    const again = await runFiler(['manifest', tree, '--out', 's3://filer-man/reports/tree.csv'], { env: server.env() });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(await rcloneCat('s3:filer-man/reports/tree.csv')).toBe(before);

    const prefix = await runFiler(['manifest', tree, '--out', 's3://filer-man/reports/'], { env: server.env() });
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toContain('names a prefix');
    const bucket = await runFiler(['manifest', tree, '--out', 's3://no-such-bucket/m.csv'], { env: server.env() });
    expect(bucket.code).toBe(2);
    expect(bucket.stderr).toContain("bucket 'no-such-bucket' does not exist");
  }, 60_000);

  it('hashes every row of overlapping roots with its own file’s sha256 (a key listed twice is read once)', async () => {
    const r = await runFiler(['manifest', PREFIX, `${PREFIX}d1`, '--hash', '-f', 'ndjson', '--out', '-'], { env: server.env() });
    expect(r.code, r.stderr).toBe(0);
    const records = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { path: string; type: string; sha256: string | null });
    const files = records.filter((x) => x.type === 'file');
    // d1's 10 objects are listed by both roots: 51 rows, 41 distinct keys hashed (outcomes were matched
    // to rows by position before, one per distinct key, so the rows after the first repeat were wrong).
    expect(files.length).toBe(51);
    for (const f of files) {
      const want = createHash('sha256')
        .update(fs.readFileSync(path.join(tree, f.path.slice(PREFIX.length))))
        .digest('hex');
      expect(f.sha256, f.path).toBe(want);
    }
  }, 120_000);
});
