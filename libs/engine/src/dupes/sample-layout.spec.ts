import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SAMPLE_BLOCK, sampleIsWhole, sampleRanges } from './sample-layout.js';

describe('sample layout', () => {
  it('uses 4 KiB blocks', () => {
    expect(SAMPLE_BLOCK).toBe(4096);
  });

  it('reads files up to two blocks whole', () => {
    for (const size of [0, 1, 4095, 4096, 4097, 8191, 8192]) {
      expect(sampleIsWhole(size)).toBe(true);
      expect(sampleRanges(size)).toEqual([[0, size]]);
    }
  });

  it('reads the head and the tail block of larger files', () => {
    expect(sampleIsWhole(8193)).toBe(false);
    expect(sampleRanges(8193)).toEqual([
      [0, 4096],
      [4097, 4096],
    ]);
    expect(sampleRanges(1_000_000)).toEqual([
      [0, 4096],
      [995_904, 4096],
    ]);
    expect(sampleRanges(2 ** 40)).toEqual([
      [0, 4096],
      [2 ** 40 - 4096, 4096],
    ]);
  });

  it('property: ranges are in order, disjoint, inside the file, and cover it exactly when whole', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (size) => {
        const ranges = sampleRanges(size);
        let end = 0;
        let covered = 0;
        for (const [start, length] of ranges) {
          expect(start).toBeGreaterThanOrEqual(end);
          expect(length).toBeGreaterThanOrEqual(0);
          end = start + length;
          covered += length;
        }
        expect(end).toBe(size);
        expect(ranges[0][0]).toBe(0);
        expect(covered).toBe(Math.min(size, 8192));
        expect(sampleIsWhole(size)).toBe(covered === size);
      }),
      { numRuns: 2000 },
    );
  });
});
