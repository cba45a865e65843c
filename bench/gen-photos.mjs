#!/usr/bin/env node
// Generates the deterministic photo set of the batch benchmark (rename by capture date), cached under bench/.cache/.
//
//   node bench/gen-photos.mjs [N]        N defaults to $BENCH_PHOTOS, then 10,000 (accepts 10000, 10k)
//
// The photos land in bench/.cache/photos-<N>/; bench/.cache/photos-<N>.json is written last and marks
// the set complete (generator version + counts). A set without a matching marker is deleted and rebuilt.
//
// Shape: one flat directory (like a camera's DCIM/100XXXXX) of N files IMG_00001.jpg … IMG_<N>.jpg,
// each the minimal valid 1×1 JPEG (134 bytes) with an EXIF APP1 segment holding a DateTimeOriginal
// of its own: 2016-03-01 08:00:00 plus, file after file, a seeded-random step of 1 s – 6 h (so every
// date, and every `YYYYMMDD_HHmmss` name made of it, is distinct; N = 10,000 spans about three years).
// The APP1 segment is the one `exiftool -DateTimeOriginal=…` writes into that JPEG (IFD0 with the
// resolution tags and the ExifIFD pointer; ExifIFD with ExifVersion, DateTimeOriginal,
// ComponentsConfiguration, FlashpixVersion, ColorSpace), byte for byte, built here instead so that
// 10,000 files take well under a second instead of one exiftool run. Files get an mtime of
// 2024-06-01 (far from their capture dates, so a tool falling back to mtime shows in the plan).
// Same N + same GENERATOR_VERSION = same names, dates and bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, parseCount } from './gen-tree.mjs';
import { mulberry32 } from './lib/random.mjs';

/** Bump whenever the shape or content changes: cached sets of another version are rebuilt. */
export const GENERATOR_VERSION = 1;
export const DEFAULT_PHOTOS = 10_000;

/** The minimal valid JPEG (SOI, APP0 JFIF, DQT, SOF2 1×1 grey, DHT, SOS, 2 bytes of scan). */
const BASE_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);
const FIRST_DATE = Date.UTC(2016, 2, 1, 8, 0, 0); // wall time, computed in UTC so no time zone shifts it
const MAX_STEP_S = 6 * 3600;
const FILE_MTIME = Date.UTC(2024, 5, 1) / 1000;

/** Photo count from an explicit argument, else $BENCH_PHOTOS, else the default. */
export function resolvePhotoCount(arg) {
  if (arg !== undefined && arg !== '') return parseCount(arg);
  if (process.env.BENCH_PHOTOS) return parseCount(process.env.BENCH_PHOTOS);
  return DEFAULT_PHOTOS;
}

export function photoPaths(n) {
  return { root: path.join(CACHE_DIR, `photos-${n}`), marker: path.join(CACHE_DIR, `photos-${n}.json`) };
}

/**
 * The set in memory: [{name, date: 'YYYY:MM:DD HH:MM:SS', stamp: 'YYYYMMDD_HHmmss'}], in file order.
 * `stamp` + '.jpg' is the name a rename by `{date:YYYYMMDD_HHmmss}{ext}` must plan.
 */
export function photoPlan(n) {
  const rand = mulberry32(0x9407_0 ^ n);
  const out = [];
  let t = FIRST_DATE;
  const width = Math.max(5, String(n).length);
  for (let i = 1; i <= n; i++) {
    t += (1 + Math.floor(rand() * MAX_STEP_S)) * 1000;
    const iso = new Date(t).toISOString(); // 2016-03-01T08:00:00.000Z
    const date = `${iso.slice(0, 4)}:${iso.slice(5, 7)}:${iso.slice(8, 10)} ${iso.slice(11, 19)}`;
    const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
    out.push({ name: `IMG_${String(i).padStart(width, '0')}.jpg`, date, stamp });
  }
  return out;
}

// --- EXIF ---------------------------------------------------------------------------------------

const TYPE_SIZE = { 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 }; // ASCII, SHORT, LONG, RATIONAL, UNDEFINED

/**
 * Big-endian ("MM") TIFF with IFD0 and an ExifIFD, laid out as exiftool lays them out: each IFD,
 * then the values of its entries that do not fit in 4 bytes. Entries: [tag, type, count, value],
 * value a Buffer (raw bytes), a number (SHORT/LONG) or [num, den] (RATIONAL); `sub` marks the
 * ExifIFD pointer, filled in once the ExifIFD's offset is known. Returns {tiff, dateOffset}.
 */
function buildTiff(dateText) {
  const ifd0 = [
    [0x011a, 5, 1, [72, 1]], // XResolution
    [0x011b, 5, 1, [72, 1]], // YResolution
    [0x0128, 3, 1, 2], // ResolutionUnit: inches
    [0x0213, 3, 1, 1], // YCbCrPositioning: centered
    [0x8769, 4, 1, 'sub'], // ExifOffset
  ];
  const exif = [
    [0x9000, 7, 4, Buffer.from('0232', 'latin1')], // ExifVersion
    [0x9003, 2, 20, Buffer.from(dateText + '\0', 'latin1')], // DateTimeOriginal
    [0x9101, 7, 4, Buffer.of(1, 2, 3, 0)], // ComponentsConfiguration: Y, Cb, Cr, -
    [0xa000, 7, 4, Buffer.from('0100', 'latin1')], // FlashpixVersion
    [0xa001, 3, 1, 0xffff], // ColorSpace: uncalibrated
  ];
  const ifdBytes = (entries) => {
    const extra = entries.reduce((s, [, type, count]) => s + (TYPE_SIZE[type] * count > 4 ? TYPE_SIZE[type] * count : 0), 0);
    return 2 + 12 * entries.length + 4 + extra;
  };
  const ifd0At = 8;
  const exifAt = ifd0At + ifdBytes(ifd0);
  const tiff = Buffer.alloc(exifAt + ifdBytes(exif));
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(ifd0At, 4);
  let dateOffset;
  const writeIfd = (at, entries) => {
    tiff.writeUInt16BE(entries.length, at);
    let extraAt = at + 2 + 12 * entries.length + 4;
    entries.forEach(([tag, type, count, value], i) => {
      const e = at + 2 + 12 * i;
      tiff.writeUInt16BE(tag, e);
      tiff.writeUInt16BE(type, e + 2);
      tiff.writeUInt32BE(count, e + 4);
      const size = TYPE_SIZE[type] * count;
      if (value === 'sub') tiff.writeUInt32BE(exifAt, e + 8);
      else if (type === 3) tiff.writeUInt16BE(value, e + 8);
      else if (type === 4) tiff.writeUInt32BE(value, e + 8);
      else if (size <= 4) value.copy(tiff, e + 8);
      else {
        tiff.writeUInt32BE(extraAt, e + 8);
        if (type === 5) {
          tiff.writeUInt32BE(value[0], extraAt);
          tiff.writeUInt32BE(value[1], extraAt + 4);
        } else value.copy(tiff, extraAt);
        if (tag === 0x9003) dateOffset = extraAt;
        extraAt += size;
      }
    });
    tiff.writeUInt32BE(0, at + 2 + 12 * entries.length); // no next IFD
  };
  writeIfd(ifd0At, ifd0);
  writeIfd(exifAt, exif);
  return { tiff, dateOffset };
}

/** A JPEG template with its APP1 (after APP0, where exiftool puts it) and where the 19 date characters go. */
function jpegTemplate() {
  const { tiff, dateOffset } = buildTiff('0000:00:00 00:00:00');
  const app1 = Buffer.alloc(4 + 6 + tiff.length);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(2 + 6 + tiff.length, 2);
  app1.write('Exif\0\0', 4, 'latin1');
  tiff.copy(app1, 10);
  const app0End = 4 + BASE_JPEG.readUInt16BE(4); // SOI (2) + marker (2) + APP0 length
  if (BASE_JPEG.readUInt16BE(2) !== 0xffe0) throw new Error('base JPEG: APP0 expected right after SOI');
  const jpeg = Buffer.concat([BASE_JPEG.subarray(0, app0End), app1, BASE_JPEG.subarray(app0End)]);
  return { jpeg, dateAt: app0End + 10 + dateOffset };
}

/** The bytes of one photo with the given DateTimeOriginal ('YYYY:MM:DD HH:MM:SS'). */
export function photoBytes(date) {
  const { jpeg, dateAt } = jpegTemplate();
  jpeg.write(date, dateAt, 'latin1');
  return jpeg;
}

// --- cache --------------------------------------------------------------------------------------

/** Returns the manifest of a complete set of n photos, or undefined. */
export function readPhotoManifest(n) {
  const { root, marker } = photoPaths(n);
  try {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8'));
    if (m.generatorVersion === GENERATOR_VERSION && m.files === n && m.complete === true && fs.existsSync(root)) return { ...m, root };
  } catch {
    // no marker, or unreadable: not complete
  }
  return undefined;
}

/**
 * Makes sure the set of n photos exists and is complete; generates it if not.
 * Returns its manifest (counts, date range, generator version) with `root` added.
 */
export function ensurePhotos(n, { log = (s) => process.stderr.write(s + '\n') } = {}) {
  const existing = readPhotoManifest(n);
  const { root, marker } = photoPaths(n);
  if (existing) {
    log(`photos: ${root} (${n.toLocaleString('en-US')} photos, generator v${GENERATOR_VERSION}) is cached`);
    return existing;
  }
  fs.rmSync(marker, { force: true });
  if (fs.existsSync(root)) {
    log(`photos: removing incomplete or outdated ${root}`);
    fs.rmSync(root, { recursive: true, force: true });
  }
  log(`photos: generating ${n.toLocaleString('en-US')} JPEGs with EXIF DateTimeOriginal in ${root}`);
  const started = Date.now();
  const photos = photoPlan(n);
  const { jpeg, dateAt } = jpegTemplate();
  fs.mkdirSync(root, { recursive: true });
  for (const p of photos) {
    jpeg.write(p.date, dateAt, 'latin1');
    const file = path.join(root, p.name);
    fs.writeFileSync(file, jpeg, { flag: 'wx' });
    fs.utimesSync(file, FILE_MTIME, FILE_MTIME);
  }
  const manifest = {
    generatorVersion: GENERATOR_VERSION,
    complete: true,
    createdAt: new Date().toISOString(),
    files: n,
    bytesPerFile: jpeg.length,
    bytes: n * jpeg.length,
    firstDate: photos[0].date,
    lastDate: photos[photos.length - 1].date,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  fs.writeFileSync(marker, JSON.stringify(manifest, null, 2) + '\n');
  log(
    `photos: done in ${manifest.seconds} s: ${n.toLocaleString('en-US')} files of ${jpeg.length} bytes, DateTimeOriginal ${manifest.firstDate} … ${manifest.lastDate}`,
  );
  return { ...manifest, root };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const m = ensurePhotos(resolvePhotoCount(process.argv[2]));
  process.stdout.write(m.root + '\n');
}
