import exifr from 'exifr';
import type { DateSource, WallTime } from '@filer/engine';
import { cr3HeadExifTiff, readCr3ExifTiff } from './cr3-exif.js';

/** EXIF date-times are `YYYY:MM:DD HH:MM:SS` in the camera's local time, optionally with fractions. */
const EXIF_DATE_RE = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?/;

/** Parses an EXIF date-time as the wall time it records; undefined for blank or impossible values. */
export function parseExifDate(value: unknown): WallTime | undefined {
  if (typeof value !== 'string') return undefined;
  const m = EXIF_DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year === 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  return { year, month, day, hour, minute, second, millisecond: m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0')) };
}

export interface CaptureDate {
  time: WallTime;
  source: DateSource;
}

/**
 * Reads a photo's capture date: EXIF DateTimeOriginal, else CreateDate (DateTimeDigitized).
 * Values are read raw (`reviveValues: false`) so the process's time zone never shifts them: a
 * file name wants the wall time the camera recorded. exifr reads only the chunks that hold the
 * tags (JPEG, HEIC, TIFF and the TIFF-based RAW formats; CR3 through its embedded EXIF TIFF).
 * Undefined when neither tag is usable.
 */
export async function readCaptureDate(path: string): Promise<CaptureDate | undefined> {
  let tags: { original: unknown; created: unknown } | undefined;
  try {
    tags = /\.cr3$/i.test(path) ? await readCr3Tags(await readCr3ExifTiff(path)) : await readTags(path);
  } catch {
    return undefined; // not an image exifr knows, or no EXIF at all: the caller falls back to mtime
  }
  return captureOf(tags);
}

/**
 * The same, from a file's first bytes (an S3 object's head, read with one ranged GET): found when
 * the tags lie within them, as they do in JPEG (APP1 is at most 64 KiB), TIFF-based RAW and CR3
 * files whose moov fits; undefined otherwise (the caller falls back).
 */
export async function captureDateOfHead(head: Buffer, name: string): Promise<CaptureDate | undefined> {
  let tags: { original: unknown; created: unknown } | undefined;
  try {
    tags = /\.cr3$/i.test(name) ? await readCr3Tags(cr3HeadExifTiff(head)) : await readTags(head);
  } catch {
    return undefined; // a cut-off segment reads as no EXIF
  }
  return captureOf(tags);
}

function captureOf(tags: { original: unknown; created: unknown } | undefined): CaptureDate | undefined {
  const original = parseExifDate(tags?.original);
  if (original) return { time: original, source: 'DateTimeOriginal' };
  const created = parseExifDate(tags?.created);
  if (created) return { time: created, source: 'CreateDate' };
  return undefined;
}

/** Tags exifr does not need to read for a date: every block but IFD0 and the EXIF IFD. */
const SKIP_BLOCKS = { ifd1: false, gps: false, interop: false, xmp: false, icc: false, iptc: false, jfif: false, ihdr: false } as const;

/**
 * exifr's options, made once: exifr caches what it derives from an options object in a map keyed
 * by that object, never emptied — an object made per call kept one entry, about 9 KB, per file read (a
 * 200,000-file `{date}` rename plan peaked at 2 GB).
 */
const TAG_OPTIONS = {
  pick: ['DateTimeOriginal', 'CreateDate'],
  reviveValues: false,
  translateValues: false,
  ...SKIP_BLOCKS,
};

const CR3_OPTIONS = {
  tiff: true, // IFD0 is always read: here it is the EXIF IFD
  exif: false,
  translateKeys: false,
  reviveValues: false,
  translateValues: false,
  ...SKIP_BLOCKS,
};

async function readTags(path: string | Buffer): Promise<{ original: unknown; created: unknown } | undefined> {
  const tags = (await exifr.parse(path, TAG_OPTIONS)) as Record<string, unknown> | undefined;
  return tags && { original: tags.DateTimeOriginal, created: tags.CreateDate };
}

/** EXIF tag numbers (exifr names them only in the EXIF IFD's dictionary, not in IFD0's). */
const TAG_DATE_TIME_ORIGINAL = 0x9003;
const TAG_CREATE_DATE = 0x9004;

/** CR3: exifr reads the EXIF TIFF found in the file's boxes; its tags sit in that TIFF's first IFD. */
async function readCr3Tags(tiff: Buffer | undefined): Promise<{ original: unknown; created: unknown } | undefined> {
  if (tiff === undefined) return undefined;
  const tags = (await exifr.parse(tiff, CR3_OPTIONS)) as Record<number, unknown> | undefined;
  return tags && { original: tags[TAG_DATE_TIME_ORIGINAL], created: tags[TAG_CREATE_DATE] };
}
