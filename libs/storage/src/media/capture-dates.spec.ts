import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { mayHoldExif, readCaptureDates } from './capture-dates.js';
import { localNaming, mayHoldExifDate, MIN_EXIF_DATE_BYTES } from '../batch/name-files.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-capture-dates-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (name: string, bytes: Buffer | string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
};

describe('which files go to exifr', () => {
  it('those starting as JPEG, TIFF, PNG or an ISO box does, and CR3 by its name; not text, nor a file under two bytes', () => {
    expect(mayHoldExif(file('a.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe1])))).toBe(true);
    expect(mayHoldExif(file('a.tif', 'II*\0'))).toBe(true);
    expect(mayHoldExif(file('a.nef', 'MM\0*'))).toBe(true);
    expect(mayHoldExif(file('a.png', Buffer.from([0x89, 0x50, 0x4e, 0x47])))).toBe(true);
    expect(mayHoldExif(file('a.heic', Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70])))).toBe(true);
    expect(mayHoldExif(file('a.cr3', 'not even a box'))).toBe(true);
    expect(mayHoldExif(file('a.csv', 'id,name\n1,x\n'))).toBe(false);
    expect(mayHoldExif(file('one', 'x'))).toBe(false);
    expect(mayHoldExif(file('empty', ''))).toBe(false);
    expect(mayHoldExif(path.join(dir, 'missing.jpg'))).toBe(false);
  });

  it('reads no date from files exifr cannot know, keeping the order of those given', async () => {
    const paths = [file('b.csv', 'a,b\n'), file('b-empty.jpg', ''), file('b.jpg', Buffer.from([0xff, 0xd8, 0, 0]))];
    expect(await readCaptureDates(paths)).toEqual([undefined, undefined, undefined]);
  });

  it(`leaves files under ${MIN_EXIF_DATE_BYTES} bytes unread (as walked): their date is the fallback`, async () => {
    expect(mayHoldExifDate({ path: '/x', kind: 'file', size: MIN_EXIF_DATE_BYTES - 1 })).toBe(false);
    expect(mayHoldExifDate({ path: '/x', kind: 'file', size: MIN_EXIF_DATE_BYTES })).toBe(true);
    expect(mayHoldExifDate({ path: '/x', kind: 'file' })).toBe(true);
    // In the order given, the small ones left out of the read.
    const small = { path: file('c.jpg', Buffer.from([0xff, 0xd8])), kind: 'file' as const, size: 2 };
    expect(await localNaming.captureDates([small, { ...small, size: undefined }, small])).toEqual([undefined, undefined, undefined]);
  });
});

describe('reading many capture dates', () => {
  it('keeps no memory per file read (exifr caches by options object: one made per call grew the heap by about 9 KB a file)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    // JPEG's first bytes, then no EXIF segment: exifr opens, reads and parses each one.
    const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43]), Buffer.alloc(64, 1)]);
    const many = Array.from({ length: 2500 }, (_, i) => file(`m${i}.jpg`, fake));
    const heap = async (paths: string[]): Promise<number> => {
      expect(await readCaptureDates(paths)).toEqual(paths.map(() => undefined));
      gc();
      return v8.getHeapStatistics().used_heap_size;
    };
    const before = await heap(many.slice(0, 500));
    const after = await heap(many);
    expect(after - before).toBeLessThan(4 << 20);
  });
});
