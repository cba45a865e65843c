import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseBytes, startS3Server, type S3ServerHandle } from '@filer/testing';
import { createS3Client, s3ConfigFromEnv, S3DedupeOps, S3Objects } from '@filer/storage/s3';

// S3DedupeOps on s3rver: the byte compare (ETags, or both objects read), the conditional copy and
// delete a dedupe job on S3 is made of, each refusing an object that is not the version expected.

let server: S3ServerHandle;
let objects: S3Objects;
let sut: S3DedupeOps;
const B = 'filer-dedupe-ops';
const uri = (key: string): string => `s3://${B}/${key}`;

beforeAll(async () => {
  server = await startS3Server({ buckets: [B] });
  Object.assign(process.env, server.env());
  objects = new S3Objects(createS3Client(s3ConfigFromEnv()));
  sut = new S3DedupeOps(objects);
});

afterAll(async () => {
  objects?.client.destroy();
  await server?.stop();
});

async function put(key: string, body: Buffer): Promise<NonNullable<Awaited<ReturnType<S3DedupeOps['stat']>>>> {
  await objects.putNew({ bucket: B, key }, body);
  return (await sut.stat(uri(key)))!;
}

describe('S3DedupeOps', () => {
  it('sameBytes: equal single-part ETags are equal bytes; other ETags (multipart, SSE) are compared by reading both', async () => {
    const body = noiseBytes(70_000, 1);
    const other = Buffer.from(body);
    other[35_000] ^= 1;
    const [a, b, c] = [await put('cmp/a', body), await put('cmp/b', body), await put('cmp/c', other)];
    expect(a.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(await sut.sameBytes({ uri: uri('cmp/a'), id: a }, { uri: uri('cmp/b'), id: b })).toBe(true);
    expect(await sut.sameBytes({ uri: uri('cmp/a'), id: a }, { uri: uri('cmp/c'), id: c })).toBe(false);
    // ETags that are not MD5s (as a multipart upload's): the objects themselves decide.
    const multi = (id: typeof a, tag: string) => ({ ...id, etag: `${tag}-2` });
    expect(await sut.sameBytes({ uri: uri('cmp/a'), id: multi(a, 'x') }, { uri: uri('cmp/b'), id: multi(b, 'y') })).toBe(true);
    expect(await sut.sameBytes({ uri: uri('cmp/a'), id: multi(a, 'x') }, { uri: uri('cmp/c'), id: multi(c, 'x') })).toBe(false);
    expect(await sut.sameBytes({ uri: uri('cmp/a'), id: a }, { uri: uri('cmp/c'), id: { ...c, size: c.size + 1 } })).toBe(false);
  });

  it('copyIf copies the version expected to a free key, verified; a changed source is E_CHANGED, a taken key EEXIST', async () => {
    const body = noiseBytes(5_000, 2);
    const src = await put('copy/src', body);
    const copied = await sut.copyIf(uri('copy/src'), uri('.filer-quarantine/J/copy/src'), src);
    expect([copied.size, copied.etag]).toEqual([src.size, src.etag]);
    await expect(
      sut.copyIf(uri('copy/src'), uri('copy/other'), { ...src, etag: 'ffffffffffffffffffffffffffffffff' }),
    ).rejects.toMatchObject({
      code: 'E_CHANGED',
    });
    expect(await sut.stat(uri('copy/other'))).toBeUndefined();
    const taken = await put('copy/taken', Buffer.from('someone else'));
    await expect(sut.copyIf(uri('copy/src'), uri('copy/taken'), src)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await sut.stat(uri('copy/taken'))).toMatchObject({ etag: taken.etag });
  });

  it('unlinkIf deletes only the version expected: another one is E_CHANGED and stays', async () => {
    const v = await put('del/x', Buffer.from('version one'));
    await expect(sut.unlinkIf(uri('del/x'), { ...v, etag: '00000000000000000000000000000000' })).rejects.toMatchObject({
      code: 'E_CHANGED',
    });
    await expect(sut.unlinkIf(uri('del/x'), { ...v, mtimeNs: '0' })).rejects.toMatchObject({ code: 'E_CHANGED' });
    expect(await sut.stat(uri('del/x'))).toEqual(v);
    await sut.unlinkIf(uri('del/x'), v);
    expect(await sut.stat(uri('del/x'))).toBeUndefined();
    await expect(sut.unlinkIf(uri('del/x'), v)).rejects.toMatchObject({ code: 'E_CHANGED' });
  });
});
