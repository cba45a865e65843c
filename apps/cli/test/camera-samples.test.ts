import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, runProcess } from '@filer/testing';
// @ts-expect-error a plain ES module of the repo's scripts, without types
import { ensureCameraSamples } from '../../../scripts/camera-samples.mjs';

/** Formats filer reads capture dates from (exifr); the samples' other formats fall back to mtime. */
const READ = new Set(['.jpg', '.tif', '.cr2', '.cr3', '.nef', '.dng', '.rw2', '.iiq', '.heic']);

interface PlanLine {
  source: string;
  target: string;
  dateSource: string;
}

let samples: string;
let work: string;
beforeAll(async () => {
  samples = (await ensureCameraSamples()) as string;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-camera-'));
  for (const name of fs.readdirSync(samples)) if (!name.startsWith('.')) fs.copyFileSync(path.join(samples, name), path.join(work, name));
}, 180_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** exiftool's EXIF dates per file (the ExifIFD group: not a maker note's, nor a composite of XMP/IPTC). */
async function exifDates(dir: string): Promise<Map<string, { DateTimeOriginal?: string; CreateDate?: string }>> {
  const r = await runProcess('exiftool', ['-j', '-d', '%Y-%m-%d_%H%M%S', '-ExifIFD:DateTimeOriginal', '-ExifIFD:CreateDate', dir]);
  expect(r.code, r.stderr).toBe(0);
  const rows = JSON.parse(r.stdout) as { SourceFile: string; DateTimeOriginal?: string; CreateDate?: string }[];
  return new Map(rows.map((row) => [path.basename(row.SourceFile), row]));
}

describe('capture dates of real-camera files (ExifTool test images from Debian)', () => {
  it('equal exiftool’s EXIF DateTimeOriginal (else CreateDate) for every JPEG, TIFF and RAW sample', async () => {
    const r = await runFiler(['rename', work, '--to', '{date:YYYY-MM-DD_HHmmss}__{stem}{ext}', '--format', 'ndjson']);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PlanLine);
    expect(plan.length).toBe(fs.readdirSync(work).length);
    const exif = await exifDates(work);
    let fromExif = 0;
    const raw = new Set<string>();
    for (const p of plan) {
      const ext = path.extname(p.source).toLowerCase();
      const date = path.basename(p.target).split('__')[0];
      const { DateTimeOriginal: original, CreateDate: created } = exif.get(path.basename(p.source)) ?? {};
      if (!READ.has(ext)) {
        // CRW, RAF, MRW, X3F: not formats exifr reads; the plan says it used the mtime.
        expect(p.dateSource, p.source).toBe('mtime');
        continue;
      }
      const expected = original
        ? { source: 'DateTimeOriginal', date: original }
        : created
          ? { source: 'CreateDate', date: created }
          : undefined;
      if (expected === undefined) {
        expect(p.dateSource, p.source).toBe('mtime');
        continue;
      }
      expect({ file: path.basename(p.source), source: p.dateSource, date }).toEqual({ file: path.basename(p.source), ...expected });
      fromExif++;
      if (ext !== '.jpg' && ext !== '.tif') raw.add(ext);
    }
    // The samples hold dozens of camera JPEGs and RAW files from Canon (CR2, CR3), Nikon, Adobe, Panasonic and Phase One.
    expect(fromExif).toBeGreaterThanOrEqual(35);
    expect([...raw].sort()).toEqual(['.cr2', '.cr3', '.dng', '.iiq', '.nef', '.rw2']);
  });

  it('a CR3 whose date exiftool rewrote gives the new date', async () => {
    const dir = fs.mkdtempSync(path.join(work, '.cr3-'));
    const file = path.join(dir, 'IMG_0001.CR3');
    fs.copyFileSync(path.join(samples, 'CanonRaw.cr3'), file);
    const w = await runProcess('exiftool', ['-q', '-overwrite_original', '-DateTimeOriginal=2024:07:08 09:10:11', file]);
    expect(w.code, w.stderr).toBe(0);
    const r = await runFiler(['rename', dir, '--to', '{date:YYYY-MM-DD_HHmmss}{ext}', '--format', 'ndjson']);
    expect(r.code, r.stderr).toBe(0);
    const [line] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PlanLine);
    expect({ name: path.basename(line.target), source: line.dateSource }).toEqual({
      name: '2024-07-08_091011.CR3',
      source: 'DateTimeOriginal',
    });
  });
});
