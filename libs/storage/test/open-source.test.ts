import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseFilterSpec, type FileEntry, type PathError } from '@filer/core';
import { file, makeTree, nativeAddonOff, startS3Server, type S3ServerHandle, type TempTree } from '@filer/testing';
import { openSource, type SourceWalkOptions, type WalkSource } from '../src/index.js';
import { createS3Client, s3ConfigFromEnv } from '../src/s3.js';

/** Walks a source to the end: entries (or formatted text) and errors. */
async function walkAll(
  source: WalkSource,
  more: Partial<SourceWalkOptions> = {},
): Promise<{ paths: string[]; text: string; errors: PathError[] }> {
  const entries: FileEntry[] = [];
  const errors: PathError[] = [];
  let text = '';
  const handle = source.walk({
    spec: parseFilterSpec({ hidden: true }),
    statAll: true,
    output: { kind: 'entries' },
    threads: 0,
    onEntries: (es) => entries.push(...es),
    onText: (t) => (text += typeof t === 'string' ? t : new TextDecoder().decode(t)),
    onError: (e) => errors.push(e),
    ...more,
  });
  await handle.done;
  return { paths: entries.map((e) => e.path).sort(), text, errors };
}

const NAMES = ['a.txt', 'b/c.log', 'b/d/e.csv', '.h/i.txt'];

describe('openSource: local roots', () => {
  let t: TempTree;
  beforeAll(() => {
    t = makeTree(Object.fromEntries(NAMES.map((n) => [n, file(n)])));
  });
  afterAll(() => t.cleanup());

  it('picks the native scanner unless it is off or not built, and both adapters walk the same', async () => {
    const native = await openSource([t.root]);
    const portable = await openSource([t.root], { native: false });
    expect(native.kind).toBe(nativeAddonOff ? 'local-portable' : 'local-native');
    expect(portable.kind).toBe('local-portable');
    expect(native.cachesHashes).toBe(true);
    expect(native.notes(parseFilterSpec({ type: 'dir' }))).toEqual([]);
    const want = NAMES.map((n) => `${t.root}/${n}`).sort();
    expect((await walkAll(native)).paths).toEqual(want);
    expect((await walkAll(portable)).paths).toEqual(want);
    const text = await walkAll(native, { output: { kind: 'text', format: 'paths', nul: false } });
    expect(text.text.split('\n').filter(Boolean).sort()).toEqual(want);
  });

  it('turns walked entries into the duplicate finder files, with device and inode', async () => {
    const source = await openSource([t.root]);
    const list = source.dupeFiles();
    await walkAll(source, { identity: true, onEntries: (es) => list.add(es) });
    expect(list.files.map((f) => f.path).sort()).toEqual(NAMES.map((n) => `${t.root}/${n}`).sort());
    expect(list.files.every((f) => f.ino > 0 && f.size === f.path.length - t.root.length - 1)).toBe(true);
  });
});

describe('openSource: S3 roots', () => {
  let server: S3ServerHandle;
  let client: S3Client;
  beforeAll(async () => {
    server = await startS3Server({ buckets: ['filer-open'] });
    Object.assign(process.env, server.env());
    client = createS3Client(s3ConfigFromEnv());
    for (const key of NAMES.map((n) => `p/${n}`))
      await client.send(new PutObjectCommand({ Bucket: 'filer-open', Key: key, Body: key, ContentLength: Buffer.byteLength(key) }));
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  it('lists a prefix as the local walk lists a tree, as entries and as text, and stops when asked', async () => {
    const source = await openSource(['s3://filer-open/p/']);
    try {
      expect([source.kind, source.cachesHashes]).toEqual(['s3', false]);
      expect(source.notes(parseFilterSpec({ type: 'dir' }))).toEqual(['--type d on S3 lists common prefixes (they have no size or mtime)']);
      const want = NAMES.map((n) => `s3://filer-open/p/${n}`).sort();
      expect(await walkAll(source)).toEqual({ paths: want, text: '', errors: [] });
      const text = await walkAll(source, { output: { kind: 'text', format: 'paths', nul: false } });
      expect(text.text.split('\n').filter(Boolean).sort()).toEqual(want);
      let batches = 0;
      const handle = source.walk({
        spec: parseFilterSpec({ hidden: true }),
        statAll: true,
        output: { kind: 'entries' },
        onEntries: () => void (batches++, handle.stop()),
        onError: () => undefined,
      });
      await handle.done;
      expect(batches).toBe(1);
    } finally {
      source.close();
    }
  });

  it('refuses a missing bucket when it opens', async () => {
    await expect(openSource(['s3://filer-missing/p/'])).rejects.toThrow(/filer-missing/);
  });
});
