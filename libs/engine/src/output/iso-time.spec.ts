import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoFromMs } from './iso-time.js';

describe('isoFromMs', () => {
  it('equals Date#toISOString for any time, fractional milliseconds included', () => {
    fc.assert(
      fc.property(fc.double({ min: -62e12, max: 300e12, noNaN: true }), (ms) => {
        expect(isoFromMs(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20000 },
    );
  });

  it('handles day boundaries and leap days', () => {
    for (const iso of [
      '1970-01-01T00:00:00.000Z',
      '2000-02-29T23:59:59.999Z',
      '2024-03-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '9999-12-31T23:59:59.999Z',
    ]) {
      expect(isoFromMs(Date.parse(iso))).toBe(iso);
    }
  });
});
