import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryToJson } from '@filer/engine';
import { DirResultsStore } from '@filer/storage/results';
import { recordPaths } from '../src/jobs/record-paths.js';
import { acceptsGzip, gzipped } from '../src/jobs/results-encoding.js';
import { renderResults, type ResultFormat } from '../src/jobs/results-format.js';

/**
 * The byte paths of GET /v1/jobs/:id/results (ndjson as stored, paths cut out without a parse)
 * against the parsed path they replace (renderResults over the store's lines), byte for byte, for
 * every page that starts or ends at, before or after a part boundary.
 */

/** Paths that take every branch of the path cutter: plain, unicode, and each kind of escape. */
const NAMES = [
  '/r/a.txt',
  '/r/ünï cödé/файл.csv',
  '/r/emoji 😀.jpg',
  '/r/quote"in name',
  '/r/back\\slash',
  '/r/new\nline',
  '/r/tab\there',
  '/r/ctl\u0001x',
  '/r/lone \ud800 surrogate',
  '/r/comma,and "both"\\',
  '/r/' + 'long/'.repeat(4000) + 'end',
];

let dir: string;
let store: DirResultsStore;

async function text(chunks: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(out);
}

function parsed(job: string, format: ResultFormat, cursor: number, limit?: number): Promise<Buffer> {
  return text(renderResults(store.lines(job, 'scan'), { shape: 'find', kind: 'find', format, cursor, limit }));
}

function bytes(job: string, format: 'ndjson' | 'paths', cursor: number, limit?: number): Promise<Buffer> {
  const records = store.records(job, 'scan', { cursor, limit });
  return text(format === 'ndjson' ? records : recordPaths(records));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-results-bytes-'));
  store = new DirResultsStore(dir);
  // Job "parts": 5 parts of 0, 7, 1, 0 and 13 records, names cycling through NAMES, one record of
  // another shape (a manifest record: the find record with its sha256 last).
  let n = 0;
  const sizes = [0, 7, 1, 0, 13];
  for (const [p, size] of sizes.entries()) {
    const lines: string[] = [];
    for (let i = 0; i < size; i++, n++) {
      const e = { path: NAMES[n % NAMES.length]! + `#${n}`, kind: 'file' as const, size: n, mtimeMs: 1_700_000_000_000 + n };
      lines.push((n === 5 ? `${entryToJson(e).slice(0, -1)},"sha256":"ab"}` : entryToJson(e)) + '\n');
    }
    await store.writePart('parts', 'scan', `p${p}`, lines);
  }
  // Job "big": parts larger than the reader's 1 MiB chunks, so records are cut by chunk ends.
  for (let p = 0; p < 3; p++) {
    const lines: string[] = [];
    for (let i = 0; i < 9000; i++)
      lines.push(entryToJson({ path: `/big/${p}/${'x'.repeat(i % 200)}/${NAMES[i % (NAMES.length - 1)]}`, kind: 'file', size: i }) + '\n');
    await store.writePart('big', 'scan', `p${p}`, lines);
  }
  // Job "torn": a last record without its newline (no writer leaves one; the reader adds it).
  fs.mkdirSync(store.partDir('torn', 'scan'), { recursive: true });
  fs.writeFileSync(
    store.partPath('torn', 'scan', 'a'),
    entryToJson({ path: '/t/1', kind: 'file' }) + '\n' + entryToJson({ path: '/t/2', kind: 'file' }),
  );
  fs.writeFileSync(store.partPath('torn', 'scan', 'b'), entryToJson({ path: '/t/3', kind: 'dir' }) + '\n');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('results as bytes', () => {
  it('pages by cursor and limit across part boundaries exactly as the parsed path does (ndjson and paths)', async () => {
    const total = 21;
    expect((await bytes('parts', 'ndjson', 0)).toString().split('\n')).toHaveLength(total + 1);
    for (const format of ['ndjson', 'paths'] as const)
      for (let cursor = 0; cursor <= total + 1; cursor++)
        for (const limit of [undefined, 1, 2, 6, 7, 8, 14, 100]) {
          const want = await parsed('parts', format, cursor, limit);
          const got = await bytes('parts', format, cursor, limit);
          expect(got.equals(want), `${format} cursor ${cursor} limit ${limit}: ${JSON.stringify(got.toString())}`).toBe(true);
        }
    // Each escape decoded: the paths are the names, not their JSON.
    const paths = (await bytes('parts', 'paths', 0)).toString();
    expect(paths).toContain('/r/quote"in name#3\n');
    expect(paths).toContain('/r/new\nline#5\n');
    expect(paths).toContain('/r/lone \ufffd surrogate#8\n');
  });

  it('agrees with the parsed path on parts cut by read chunks, and adds a missing last newline', async () => {
    for (const format of ['ndjson', 'paths'] as const) {
      for (const [cursor, limit] of [
        [0, undefined],
        [8999, 2],
        [4500, 9000],
        [17_999, undefined],
        [26_999, 5],
      ] as const)
        expect((await bytes('big', format, cursor, limit)).equals(await parsed('big', format, cursor, limit)), `${format} ${cursor}`).toBe(
          true,
        );
      expect((await bytes('torn', format, 0)).equals(await parsed('torn', format, 0))).toBe(true);
      expect((await bytes('torn', format, 1, 1)).toString()).toBe(
        format === 'paths' ? '/t/2\n' : entryToJson({ path: '/t/2', kind: 'file' }) + '\n',
      );
    }
    expect((await bytes('none', 'ndjson', 0)).length).toBe(0);
  });

  it('counts a replaced part again (a retried shard renames a new file over it)', async () => {
    expect((await bytes('torn', 'paths', 2)).toString()).toBe('/t/3\n');
    await store.writePart('torn', 'scan', 'a', [entryToJson({ path: '/t/only', kind: 'file' }) + '\n']);
    expect((await bytes('torn', 'paths', 1)).toString()).toBe('/t/3\n');
    expect((await bytes('torn', 'ndjson', 1)).equals(await parsed('torn', 'ndjson', 1))).toBe(true);
  });
});

describe('gzip', () => {
  it('reads Accept-Encoding as RFC 9110 does', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1.0, GZIP;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('*;q=0, identity')).toBe(false);
    expect(acceptsGzip('gzip;q=0, *')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip(['deflate', 'gzip'])).toBe(true);
  });

  it('round-trips a results body', async () => {
    const plain = await bytes('big', 'ndjson', 0);
    const zipped = await text(gzipped(Readable.from(store.records('big', 'scan', { cursor: 0 }))));
    expect(zipped.length).toBeLessThan(plain.length / 4);
    expect(gunzipSync(zipped).equals(plain)).toBe(true);
  });
});
