import * as fs from 'node:fs';
import { readCaptureDate, type CaptureDate } from './capture-date.js';

/** Files whose metadata is read at once: exifr's reads are asynchronous, so this is I/O in flight. */
const CONCURRENCY = 32;

/**
 * The first two bytes of every format exifr reads (each of its file parsers accepts a file by
 * them first): JPEG `FF D8`, TIFF and TIFF-based RAW `II` / `MM`, PNG `89 50`, and the ISO boxes
 * of HEIC and AVIF, whose first box is shorter than 64 KiB (`00 00`). CR3 is read apart.
 */
const EXIF_MAGIC = new Set([0xffd8, 0x4949, 0x4d4d, 0x8950, 0x0000]);

const head = Buffer.alloc(2);

/**
 * Whether exifr could know the file's format, from its first two bytes read synchronously (a
 * tree of documents and logs opens each file once here instead of through exifr's promises:
 * open, fstat, read, close). False where exifr would give up too: another format, a file shorter
 * than two bytes, or one that cannot be opened.
 */
export function mayHoldExif(path: string): boolean {
  if (/\.cr3$/i.test(path)) return true;
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    return fs.readSync(fd, head, 0, 2, 0) === 2 && EXIF_MAGIC.has(head.readUInt16BE(0));
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** Capture dates of many files, read concurrently, in the order given (undefined where none is found). */
export async function readCaptureDates(paths: readonly string[]): Promise<(CaptureDate | undefined)[]> {
  const out = new Array<CaptureDate | undefined>(paths.length);
  const todo: number[] = [];
  paths.forEach((p, i) => mayHoldExif(p) && todo.push(i));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const i = todo[next++];
      out[i] = await readCaptureDate(paths[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, todo.length) }, worker));
  return out;
}
