import * as fs from 'node:fs';

/**
 * Results as bytes: the records of a run of part files, as they lie on disk, from record `cursor`
 * for at most `limit` records. A part holds one JSON record per `\n`-terminated line (every writer
 * writes `JSON.stringify(…) + '\n'` from JS strings, so the bytes are valid UTF-8 and a record never
 * holds a raw newline); counting records is counting newlines, and nothing is parsed.
 */

const CHUNK = 1 << 20;
const NL = 0x0a;

export interface RecordRange {
  /** Records to skip first. */
  cursor: number;
  /** Records to yield at most; all that follow when undefined. */
  limit?: number;
}

/**
 * Records per part, cached by its version key — a file's (path, inode, size, mtime): a committed
 * part is renamed into place whole and never written again (a retried shard renames a new file
 * over it: a new inode); an object's (key, ETag) — so a count read once stays right, and a page that starts deep in a job skips whole parts
 * without reading them. Bounded: the oldest entries go first.
 */
const COUNTS_MAX = 8192;
const counts = new Map<string, number>();

function countKey(file: string, st: fs.Stats): string {
  return `${file}\0${st.ino}\0${st.size}\0${st.mtimeMs}`;
}

/** Newlines in `buf` from `from` (memchr through Buffer.indexOf: the loop runs once a record). */
function newlines(buf: Buffer, from = 0, to = buf.length): number {
  let n = 0;
  for (let i = buf.indexOf(NL, from); i !== -1 && i < to; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

/** Offset just past the `n`-th newline at or after `from`, or -1 with `skipped` newlines found when fewer. */
function pastNewlines(buf: Buffer, from: number, n: number): { at: number; skipped: number } {
  let skipped = 0;
  let i = from - 1;
  while (skipped < n) {
    i = buf.indexOf(NL, i + 1);
    if (i === -1) return { at: -1, skipped };
    skipped++;
  }
  return { at: i + 1, skipped };
}

/**
 * One part as the reader sees it, wherever it lies: a version key that changes whenever its bytes
 * could (a file's inode, size and mtime; an object's key and ETag) and its bytes in chunks.
 */
export interface PartBytes {
  versionKey(): Promise<string>;
  chunks(): AsyncIterable<Buffer>;
}

/** A part file on disk. */
export function filePart(file: string): PartBytes {
  return {
    versionKey: async () => countKey(file, await fs.promises.stat(file)),
    chunks: () => readChunks(file),
  };
}

/** The number of records in one part (a last line without its newline counts too). */
export async function partRecordCount(part: PartBytes | string): Promise<number> {
  const src = typeof part === 'string' ? filePart(part) : part;
  const key = await src.versionKey();
  const cached = counts.get(key);
  if (cached !== undefined) return cached;
  let n = 0;
  let last = NL;
  for await (const chunk of src.chunks()) {
    if (chunk.length === 0) continue;
    n += newlines(chunk);
    last = chunk[chunk.length - 1]!;
  }
  if (last !== NL) n++;
  if (counts.size >= COUNTS_MAX) counts.delete(counts.keys().next().value!);
  counts.set(key, n);
  return n;
}

/** A file's bytes in chunks of up to 1 MiB, each a fresh buffer (a consumer may keep it while the next is read). */
async function* readChunks(file: string): AsyncGenerator<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) return;
      yield bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/**
 * The bytes of records [cursor, cursor + limit) of `files` (in order), each record ending in a
 * newline. Parts before the cursor are skipped by their record counts (cached, see above); within
 * the part the cursor lands in, and while a limit runs, newlines are counted; otherwise whole
 * chunks pass through as read. One chunk is held at a time.
 */
export async function* partRecordBytes(parts: readonly (PartBytes | string)[], range: RecordRange): AsyncGenerator<Buffer> {
  let skip = range.cursor;
  let left = range.limit ?? Infinity;
  for (const part of parts) {
    const src = typeof part === 'string' ? filePart(part) : part;
    if (left <= 0) return;
    if (skip > 0) {
      const n = await partRecordCount(src);
      if (skip >= n) {
        skip -= n;
        continue;
      }
    }
    let last = NL;
    for await (const read of src.chunks()) {
      let chunk = read;
      if (skip > 0) {
        const { at, skipped } = pastNewlines(chunk, 0, skip);
        skip -= skipped;
        if (at === -1) continue;
        chunk = chunk.subarray(at);
      }
      if (chunk.length === 0) continue;
      if (left !== Infinity) {
        const { at, skipped } = pastNewlines(chunk, 0, left);
        if (at !== -1) {
          left = 0;
          yield chunk.subarray(0, at);
          return;
        }
        left -= skipped;
      }
      last = chunk[chunk.length - 1]!;
      yield chunk;
    }
    // A last record without its newline (no writer leaves one, but a part is a file anyone can put there).
    if (last !== NL) {
      yield Buffer.from('\n');
      left--;
    }
  }
}
