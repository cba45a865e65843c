import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseBytes, startS3Server, type S3ServerHandle } from '@filer/testing';
import { createS3Client, s3ConfigFromEnv, S3Objects, DEFAULT_TRANSFER_LIMITS } from '@filer/storage/s3';

let server: S3ServerHandle;
let work: string;
let objects: S3Objects;

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-objs'] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3objs-'));
  // Credentials come from the SDK's default chain: here, the environment.
  Object.assign(process.env, server.env());
  const client = createS3Client(s3ConfigFromEnv());
  // Small parts, so a 12 MB file goes up in three parts.
  objects = new S3Objects(client, { ...DEFAULT_TRANSFER_LIMITS, multipartThreshold: 5 << 20, partSize: 5 << 20 });
});

afterAll(async () => {
  objects?.client.destroy();
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('S3Objects on s3rver', () => {
  it('finds that s3rver ignores If-None-Match, and so guards puts with a HEAD', async () => {
    expect(await objects.supportsConditionalWrites('filer-objs')).toBe(false);
    const a = path.join(work, 'a');
    const b = path.join(work, 'b');
    fs.writeFileSync(a, 'first');
    fs.writeFileSync(b, 'second');
    await objects.upload(a, { bucket: 'filer-objs', key: 'k' }, false);
    await expect(objects.upload(b, { bucket: 'filer-objs', key: 'k' }, false)).rejects.toMatchObject({ code: 'EEXIST' });
    const back = path.join(work, 'back');
    await objects.download({ bucket: 'filer-objs', key: 'k' }, back);
    expect(fs.readFileSync(back, 'utf8')).toBe('first');
    // A download never writes over an existing file.
    await expect(objects.download({ bucket: 'filer-objs', key: 'k' }, back)).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('uploads multipart with bounded parts, verified by ETag, and copies server-side', async () => {
    const big = path.join(work, 'big');
    fs.writeFileSync(big, noiseBytes(12_000_000, 5));
    const up = await objects.upload(big, { bucket: 'filer-objs', key: 'big' }, false);
    expect(up.size).toBe(12_000_000);
    const copied = await objects.copy({ bucket: 'filer-objs', key: 'big' }, { bucket: 'filer-objs', key: 'big-copy' }, false);
    expect(copied.size).toBe(12_000_000);
    const back = path.join(work, 'big-back');
    await objects.download({ bucket: 'filer-objs', key: 'big-copy' }, back);
    expect(fs.readFileSync(back).equals(fs.readFileSync(big))).toBe(true);
    await expect(
      objects.copy({ bucket: 'filer-objs', key: 'big' }, { bucket: 'filer-objs', key: 'big-copy' }, false),
    ).rejects.toMatchObject({
      code: 'EEXIST',
    });
  });
});
