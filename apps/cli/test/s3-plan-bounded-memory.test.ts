import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, runProcess, startStubS3, type StubS3 } from '@filer/testing';

/**
 * An S3 copy's plan keeps the walk of its source and the listing of its destination in the plan
 * store on disk (libs/storage/src/state/plan-store.ts), not in memory. Measured beside it: the
 * plan held in memory (before) needs more than the heap allowed below for these objects and stops
 * with V8's "heap out of memory"; the stored plan runs in it. Keys are long (deep prefixes, about
 * 430 bytes), so that a record per object would pass the bound at a count planned in seconds.
 */
const OBJECTS = 30_000;
/** The V8 heap the plan must fit in: a third of what one copy of every source key, target key and listed key takes (about 39 MB). */
const HEAP_MB = 48;
const RSS_LIMIT_KB = (process.env.LD_PRELOAD?.includes('libasan') ? 1024 : 320) * 1024;
const DEEP = ('p'.repeat(49) + '/').repeat(8);

let tmp: string;
let stub: StubS3;

const sourceKey = (i: number): string => `d${String(Math.floor(i / 1000)).padStart(4, '0')}/${DEEP}f${i}.txt`;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'filer-s3-bounded-'));
  const empty = Buffer.alloc(0);
  const src = new Map<string, Buffer>();
  const dst = new Map<string, Buffer>();
  for (let i = 0; i < OBJECTS; i++) {
    src.set(sourceKey(i), empty);
    // As many objects already at the destination, none in the way…
    dst.set(`copy/old/${sourceKey(i)}`, empty);
  }
  // …but one: the plan must find it in its stored listing. And one that differs only in case, which is another key on S3.
  dst.set(`copy/${sourceKey(0)}`, Buffer.from('there'));
  dst.set(`copy/${sourceKey(1).toUpperCase()}`, Buffer.from('other'));
  stub = await startStubS3({});
  stub.objects.set('src', src);
  stub.objects.set('dst', dst);
});

afterAll(async () => {
  await stub?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('an S3 copy plan in bounded memory', () => {
  it(`plans ${OBJECTS} objects onto a prefix of as many within a ${HEAP_MB} MB heap, finding the one key in the way`, async () => {
    const rssFile = join(tmp, 'rss');
    const r = await runProcess(
      '/usr/bin/time',
      ['-f', '%M', '-o', rssFile, process.execPath, FILER_BIN, 'copy', 's3://src/', '--dest', 's3://dst/copy/', '--format', 'ndjson'],
      { env: { ...stub.env(), XDG_CACHE_HOME: join(tmp, 'cache'), NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` }, timeoutMs: 120_000 },
    );
    const rssKb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
    console.log(
      `S3 copy plan of ${OBJECTS} objects onto ${OBJECTS + 2}: peak RSS ${Math.round(rssKb / 1024)} MB (heap limit ${HEAP_MB} MB)`,
    );
    expect(r.stderr).not.toMatch(/heap out of memory/);
    // Exit 3: a conflict, so nothing would be applied.
    expect(r.code, r.stderr.slice(0, 2000)).toBe(3);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; source?: string; target?: string; kind?: string });
    const copies = lines.filter((l) => l.action === 'copy');
    expect(copies).toHaveLength(OBJECTS - 1);
    // In key order, as the walk lists them (the store's plan order).
    expect(copies[0]).toMatchObject({ source: `s3://src/${sourceKey(1)}`, target: `s3://dst/copy/${sourceKey(1)}` });
    expect(lines.filter((l) => l.action === 'conflict')).toEqual([
      {
        action: 'conflict',
        kind: 'target-exists',
        source: `s3://src/${sourceKey(0)}`,
        target: `s3://dst/copy/${sourceKey(0)}`,
        detail: 'the target already exists',
      },
    ]);
    expect(rssKb).toBeLessThan(RSS_LIMIT_KB);
    // The store is a temporary file beside the state database, removed when the plan is done.
    expect(readdirSync(join(tmp, 'cache', 'filer', 'plans'))).toEqual([]);
  }, 180_000);
});
