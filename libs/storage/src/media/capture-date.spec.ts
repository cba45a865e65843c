import { describe, expect, it } from 'vitest';
import { parseExifDate } from './capture-date.js';

describe('parseExifDate', () => {
  it('reads EXIF date-times as the wall time they record', () => {
    expect(parseExifDate('2024:05:01 09:08:07')).toEqual({ year: 2024, month: 5, day: 1, hour: 9, minute: 8, second: 7, millisecond: 0 });
    expect(parseExifDate('2024-05-01T09:08:07.5')).toMatchObject({ second: 7, millisecond: 500 });
  });
  it.each([undefined, 42, '', '0000:00:00 00:00:00', '2024:13:01 00:00:00', '2024:05:01 25:00:00', 'not a date'])('ignores %j', (v) => {
    expect(parseExifDate(v)).toBeUndefined();
  });
});
