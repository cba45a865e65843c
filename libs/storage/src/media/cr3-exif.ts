import * as fsp from 'node:fs/promises';

/**
 * Canon CR3 files are ISO-BMFF: `ftyp` (brand `crx `), then `moov`, which holds a `uuid` box
 * (Canon's 85c0b687-820f-11e0-8111-f4ce462b6a48) whose `CMT2` box is a complete little TIFF: the
 * EXIF IFD as that TIFF's first IFD. exifr does not read CR3, but it reads that TIFF; this module
 * only walks the box headers to find it (a few kilobytes at the start of the file).
 */
const CANON_UUID = '85c0b687820f11e08111f4ce462b6a48';
/** The head read first: moov comes right after ftyp and is about 10–60 KiB in Canon's files. */
const HEAD_BYTES = 64 << 10;
/** moov is never read past this: a larger one is not a camera's CR3. */
const MAX_MOOV_BYTES = 4 << 20;

interface Box {
  type: string;
  start: number;
  end: number;
  /** The box's declared end, which may lie past the bytes read. */
  declaredEnd: number;
}

function* boxes(b: Buffer, start: number, end: number): Generator<Box> {
  for (let o = start; o + 8 <= end;) {
    let size = b.readUInt32BE(o);
    let header = 8;
    if (size === 1) {
      if (o + 16 > end) return;
      size = Number(b.readBigUInt64BE(o + 8));
      header = 16;
    } else if (size === 0) size = end - o;
    if (size < header) return;
    yield { type: b.toString('latin1', o + 4, o + 8), start: o + header, end: Math.min(o + size, end), declaredEnd: o + size };
    o += size;
  }
}

function isCr3(head: Buffer): boolean {
  return head.length >= 12 && head.toString('latin1', 4, 12) === 'ftypcrx ';
}

/** The CMT2 TIFF inside a CR3's moov, or undefined when the buffer holds no such box. */
export function cr3ExifTiff(moov: Buffer): Buffer | undefined {
  for (const box of boxes(moov, 0, moov.length)) {
    if (box.type !== 'uuid' || moov.toString('hex', box.start, box.start + 16) !== CANON_UUID) continue;
    for (const inner of boxes(moov, box.start + 16, box.end)) if (inner.type === 'CMT2') return moov.subarray(inner.start, inner.end);
  }
  return undefined;
}

/** The EXIF TIFF of a CR3 from its first bytes: found when its moov lies whole within them. */
export function cr3HeadExifTiff(head: Buffer): Buffer | undefined {
  if (!isCr3(head)) return undefined;
  for (const box of boxes(head, 0, head.length))
    if (box.type === 'moov') return box.declaredEnd <= head.length ? cr3ExifTiff(head.subarray(box.start, box.end)) : undefined;
  return undefined;
}

/** Reads the EXIF TIFF of a CR3 file (undefined when `path` is not a CR3 or has none). */
export async function readCr3ExifTiff(path: string): Promise<Buffer | undefined> {
  const fh = await fsp.open(path, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, HEAD_BYTES, 0);
    const got = head.subarray(0, bytesRead);
    if (!isCr3(got)) return undefined;
    for (const box of boxes(got, 0, got.length)) {
      if (box.type !== 'moov') continue;
      const length = box.declaredEnd - box.start;
      if (box.declaredEnd <= got.length) return cr3ExifTiff(got.subarray(box.start, box.end));
      if (length > MAX_MOOV_BYTES) return undefined;
      const moov = Buffer.alloc(length);
      const r = await fh.read(moov, 0, length, box.start);
      return cr3ExifTiff(moov.subarray(0, r.bytesRead));
    }
    return undefined;
  } finally {
    await fh.close();
  }
}
