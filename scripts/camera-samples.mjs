#!/usr/bin/env node
// Makes sure the real-camera sample images exist for apps/cli/test/camera-samples.test.ts, and
// prints their directory. They come from ExifTool's own test images (t/images: files from real
// Canon, Nikon, Panasonic, Phase One... cameras, their image data cut down) in Debian's source
// package of libimage-exiftool-perl, fetched once from Debian's archive and checked by sha256.
//
//   node scripts/camera-samples.mjs           fetch if missing; prints the directory
//   FILER_CAMERA_SAMPLES=DIR                  use (or fill) DIR instead of the cache
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = '12.57+dfsg';
const SOURCE_URL = `http://deb.debian.org/debian/pool/main/libi/libimage-exiftool-perl/libimage-exiftool-perl_${VERSION}.orig.tar.xz`;
const SHA256 = '9de7ccd6ed6adf92038c8d943b1960d087b58c00b3924d19f61a1d774b7610fc';
/** The photo and RAW formats kept (the rest of t/images is documents, audio, video). */
const KEEP = /\.(jpg|heic|tif|cr2|cr3|crw|nef|dng|rw2|iiq|raf|mrw|x3f)$/i;

export function cameraSamplesDir() {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return process.env.FILER_CAMERA_SAMPLES || path.join(cache, 'filer-ci', `exiftool-${VERSION}-images`);
}

export async function ensureCameraSamples() {
  const dir = cameraSamplesDir();
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const res = await fetch(SOURCE_URL, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new Error(`cannot fetch ${SOURCE_URL}: HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const sum = createHash('sha256').update(body).digest('hex');
  if (sum !== SHA256) throw new Error(`${SOURCE_URL}: sha256 ${sum}, expected ${SHA256}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-samples-'));
  try {
    fs.writeFileSync(path.join(tmp, 'src.tar.xz'), body);
    execFileSync('tar', ['xJf', 'src.tar.xz', '--wildcards', '*/t/images/*'], { cwd: tmp });
    const images = path.join(tmp, `Image-ExifTool-${VERSION.split('+')[0]}`, 't', 'images');
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(images)) if (KEEP.test(name)) fs.copyFileSync(path.join(images, name), path.join(dir, name));
    fs.writeFileSync(path.join(dir, '.complete'), `${SOURCE_URL}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${await ensureCameraSamples()}\n`);
  } catch (e) {
    process.stderr.write(`camera samples: ${e.message}\n`);
    process.exit(1);
  }
}
