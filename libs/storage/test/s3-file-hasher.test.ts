import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseBytes, startS3Server, type S3ServerHandle } from '@filer/testing';
import { SAMPLE_BLOCK, type DupeFile } from '@filer/engine';
import { createS3Client, s3ConfigFromEnv, S3DupeFiles, S3FileHasher, S3Objects } from '@filer/storage/s3';

let server: S3ServerHandle;
let objects: S3Objects;
const BUCKET = 'filer-hash';

/** The object as the listing would give it. */
async function listed(key: string): Promise<DupeFile> {
  const info = (await objects.head({ bucket: BUCKET, key }))!;
  const files = new S3DupeFiles();
  files.add({ path: `s3://${BUCKET}/${key}`, kind: 'file', size: info.size, mtimeMs: info.mtimeMs });
  return files.files[0];
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  Object.assign(process.env, server.env());
  objects = new S3Objects(createS3Client(s3ConfigFromEnv()));
  for (const [key, size] of [
    ['small', 5000],
    ['big', 1_000_000],
    ['empty', 0],
  ] as const)
    await objects.putNew({ bucket: BUCKET, key }, noiseBytes(size, size + 1));
});

afterAll(async () => {
  objects?.client.destroy();
  await server?.stop();
});

describe('S3FileHasher on s3rver', () => {
  it('hashes the head and tail blocks as a sample, the whole object in full, streamed', async () => {
    const hasher = new S3FileHasher(objects.client, 'sha256', 2);
    const [small, big, empty] = await Promise.all(['small', 'big', 'empty'].map(listed));
    const bigBytes = noiseBytes(1_000_000, 1_000_001);
    const sample = await hasher.hash([small, big, empty], 'sample');
    expect(sample).toEqual([
      { hash: sha256(noiseBytes(5000, 5001)), whole: true },
      {
        hash: sha256(Buffer.concat([bigBytes.subarray(0, SAMPLE_BLOCK), bigBytes.subarray(1_000_000 - SAMPLE_BLOCK)])),
        whole: false,
      },
      { hash: hasher.emptyHash(), whole: true },
    ]);
    expect(hasher.bytesRead).toBe(5000 + 2 * SAMPLE_BLOCK);
    const full = await hasher.hash([big], 'full');
    expect(full).toEqual([{ hash: sha256(bigBytes), whole: true }]);
    expect(hasher.bytesRead).toBe(5000 + 2 * SAMPLE_BLOCK + 1_000_000);
  });

  it('reports an object that is not the one listed (E_CHANGED) or is gone (ENOENT), never a hash', async () => {
    const hasher = new S3FileHasher(objects.client, 'xxh128');
    const big = await listed('big');
    const [resized, older, gone] = await hasher.hash(
      [
        { ...big, size: big.size - 1 },
        { ...big, mtimeSec: big.mtimeSec - 60 },
        { ...big, path: `s3://${BUCKET}/missing` },
      ],
      'full',
    );
    expect(resized).toMatchObject({ error: { code: 'E_CHANGED', path: big.path } });
    expect(older).toMatchObject({ error: { code: 'E_CHANGED' } });
    expect(gone).toMatchObject({ error: { code: 'ENOENT', path: `s3://${BUCKET}/missing` } });
  });

  it('gives each distinct key its own identity, and a key listed twice the same one', () => {
    const files = new S3DupeFiles();
    for (const p of ['s3://b/x', 's3://b/y', 's3://b/x']) files.add({ path: p, kind: 'file', size: 1, mtimeMs: 1_700_000_000_123 });
    expect(files.files.map((f) => [f.dev, f.ino])).toEqual([
      [0, 1],
      [0, 2],
      [0, 1],
    ]);
    expect(files.files[0]).toMatchObject({ mtimeSec: 1_700_000_000, mtimeNsec: 123_000_000 });
  });

  it('writes new objects only: putNew refuses an existing key (EEXIST) and leaves it as it was', async () => {
    await expect(objects.putNew({ bucket: BUCKET, key: 'small' }, Buffer.from('other'))).rejects.toMatchObject({ code: 'EEXIST' });
    expect((await objects.head({ bucket: BUCKET, key: 'small' }))?.size).toBe(5000);
  });
});
