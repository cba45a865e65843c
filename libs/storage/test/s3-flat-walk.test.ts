import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { compileFilter, parseFilterSpec, type FileEntry, type PathError } from '@filer/core';
import { emptyWalkStats, rootTask, walkPaged } from '@filer/engine';
import { startS3Server, type S3ServerHandle } from '@filer/testing';
import {
  createS3Client,
  leanListerFromEnv,
  s3ConfigFromEnv,
  S3Source,
  sdkLister,
  walkS3Flat,
  type FlatWalkControl,
  type S3Lister,
} from '@filer/storage/s3';

/**
 * The flat walk against the level-by-level walk (walkPaged, one delimiter listing per prefix) on
 * the same keys: as the CLI runs it (the head lists everything: fewer keys than a page), split
 * from the start (no head), and with pages of 7 keys and a head of 2 or 3 pages, so the split
 * starts after a key in the middle of a directory (StartAfter, directories not reported twice);
 * through the SDK client and through the lean lister. The small pages only on prefixes whose keys
 * s3rver returns in S3's order: it lists its store directory by directory, so `a/b` comes before
 * `a!b` and `same/child.txt` before `same`, and a page boundary between such keys loses one
 * (every flat lister alike, rclone too; S3, MinIO and Ceph sort by UTF-8 bytes).
 */

let server: S3ServerHandle;
let client: S3Client;

/** Keys that exercise the rebuild of directories from flat keys: hidden and excluded directories, folder markers, deep-only prefixes, a file and a prefix of the same name. */
function keys(): string[] {
  const out = [
    'top.txt',
    '.hidden-top',
    'only/deep/down/here.log',
    'marker/',
    'marker/inside/',
    'same',
    'same/child.txt',
    'a!b',
    'a/b',
    'a.x',
  ];
  for (let t = 0; t < 12; t++) {
    for (let s = 0; s < (t % 4) + 1; s++) {
      for (let f = 0; f < 5; f++) out.push(`t${t}/s${s}/f${f}.${f % 2 === 0 ? 'txt' : 'log'}`);
      out.push(`t${t}/s${s}/.git/config`, `t${t}/s${s}/.git/objects/ab`, `t${t}/s${s}/node_modules/x/index.js`);
    }
  }
  // One wide level (more sub-prefixes than listings in flight) and one narrow, deep chain.
  for (let w = 0; w < 40; w++) out.push(`wide/w${w}/f.txt`);
  for (let d = 0; d < 6; d++) out.push(`chain/${'c/'.repeat(d)}leaf${d}.txt`);
  return out;
}

let lean: S3Lister;

async function walk(
  kind: 'flat' | 'paged',
  roots: string[],
  args: Record<string, unknown>,
  concurrency = 4,
  variant: FlatWalkControl & { lean?: boolean } = {},
): Promise<{ entries: string[]; errors: PathError[] }> {
  const spec = parseFilterSpec(args);
  const entries: string[] = [];
  const errors: PathError[] = [];
  const sink = {
    entry: (e: FileEntry) => void entries.push(`${e.kind} ${e.path} ${e.size ?? ''}`),
    error: (e: PathError) => void errors.push(e),
  };
  const options = { filter: compileFilter(spec), statAll: true };
  const lister = variant.lean === true ? lean : sdkLister(client);
  const source = new S3Source(lister);
  const stats = emptyWalkStats();
  if (kind === 'flat') await walkS3Flat(lister, source, roots.map(rootTask), options, sink, stats, { ...variant, concurrency });
  else await walkPaged(source, roots.map(rootTask).reverse(), options, sink, stats, { concurrency: 4 });
  return { entries: entries.sort(), errors };
}

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-flat'] });
  // Credentials come from the SDK's default chain: here, the environment.
  Object.assign(process.env, server.env());
  client = createS3Client(s3ConfigFromEnv());
  lean = leanListerFromEnv(s3ConfigFromEnv())!;
  expect(lean).toBeDefined();
  for (const key of keys())
    await client.send(new PutObjectCommand({ Bucket: 'filer-flat', Key: key, Body: key, ContentLength: Buffer.byteLength(key) }));
}, 120_000);

afterAll(async () => {
  client?.destroy();
  lean?.close?.();
  await server?.stop();
});

describe('walkS3Flat', () => {
  const cases: Record<string, unknown>[] = [
    {},
    { hidden: true },
    { hidden: true, type: 'dir' },
    { type: 'dir' },
    { exclude: ['node_modules', 't1*/s0'] },
    { hidden: true, exclude: ['.git/objects'] },
    { name: ['f1*', 'leaf*'] },
    { ext: 'log', minSize: 10 },
    { hidden: true, exclude: ['wide/w1*', 'same'] },
  ];
  for (const args of cases) {
    it(`lists what the delimiter walk lists: ${JSON.stringify(args)}`, async () => {
      // 4 listings at once: split at the first level; 64: narrow levels are split further, down to MAX_SPLIT_DEPTH.
      for (const [roots, concurrency] of [
        [['s3://filer-flat'], 4],
        [['s3://filer-flat'], 64],
        [['s3://filer-flat/t3/', 's3://filer-flat/chain'], 4],
        [['s3://filer-flat/wide'], 4],
        [['s3://filer-flat/t1', 's3://filer-flat/t10', 's3://filer-flat/t11/'], 4],
      ] as const) {
        const flat = await walk('flat', [...roots], args, concurrency);
        const paged = await walk('paged', [...roots], args);
        expect(flat.errors).toEqual([]);
        if (roots[0] === 's3://filer-flat') expect(flat.entries.length).toBeGreaterThan(0);
        expect(flat.entries, roots.join(' ')).toEqual(paged.entries);
        if (roots[0] === 's3://filer-flat') continue;
        for (const variant of [{ headPages: 0 }, { headPages: 2, pageKeys: 7 }, { headPages: 3, pageKeys: 7, lean: true }]) {
          const other = await walk('flat', [...roots], args, concurrency, variant);
          expect(other.errors).toEqual([]);
          expect(other.entries, `${roots.join(' ')} ${JSON.stringify(variant)}`).toEqual(paged.entries);
        }
      }
    }, 60_000);
  }

  it('reports a prefix that cannot be listed and goes on with the others', async () => {
    const r = await walk('flat', ['s3://filer-flat/t2', 's3://no-such-bucket-here/x'], {});
    expect(r.errors.map((e) => [e.path, e.code])).toEqual([['s3://no-such-bucket-here/x', 'ENOENT']]);
    expect(r.entries).toEqual((await walk('paged', ['s3://filer-flat/t2'], {})).entries);
  });
});
