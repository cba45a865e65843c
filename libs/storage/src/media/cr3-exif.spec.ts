import { describe, expect, it } from 'vitest';
import { cr3ExifTiff } from './cr3-exif.js';

const UUID = Buffer.from('85c0b687820f11e08111f4ce462b6a48', 'hex');

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

describe('cr3ExifTiff', () => {
  it('finds CMT2 inside Canon’s uuid box, after other boxes', () => {
    const tiff = Buffer.from('II*\0payload');
    const moov = Buffer.concat([box('mvhd', Buffer.alloc(4)), box('uuid', UUID, box('CMT1', Buffer.from('x')), box('CMT2', tiff))]);
    expect(cr3ExifTiff(moov)).toEqual(tiff);
  });

  it('ignores another uuid, and truncated or nonsensical box sizes, without throwing', () => {
    const other = box('uuid', Buffer.alloc(16), box('CMT2', Buffer.from('no')));
    expect(cr3ExifTiff(other)).toBeUndefined();
    const truncated = box('uuid', UUID, box('CMT2', Buffer.from('II*\0'))).subarray(0, 30);
    expect(cr3ExifTiff(truncated)).toBeUndefined();
    const bad = Buffer.from(box('uuid', UUID));
    bad.writeUInt32BE(3, 0); // smaller than its own header
    expect(cr3ExifTiff(bad)).toBeUndefined();
  });
});
