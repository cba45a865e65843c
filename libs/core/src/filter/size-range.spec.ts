import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileSizeFilter } from './size-range.js';

const sizeArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const smallSizeArb = fc.integer({ min: 0, max: 10_000 });

describe('compileSizeFilter', () => {
  it('is undefined without bounds (no stat needed)', () => {
    expect(compileSizeFilter()).toBeUndefined();
    expect(compileSizeFilter(undefined, undefined)).toBeUndefined();
  });

  it('keeps sizes at or above the minimum (inclusive)', () => {
    const f = compileSizeFilter(2000)!;
    expect(f(1999)).toBe(false);
    expect(f(2000)).toBe(true);
    expect(f(2001)).toBe(true);
    expect(f(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('keeps sizes at or below the maximum (inclusive)', () => {
    const f = compileSizeFilter(undefined, 1024)!;
    expect(f(0)).toBe(true);
    expect(f(1024)).toBe(true);
    expect(f(1025)).toBe(false);
  });

  it('keeps sizes within both bounds', () => {
    const f = compileSizeFilter(10, 20)!;
    expect([9, 10, 15, 20, 21].map(f)).toEqual([false, true, true, true, false]);
  });

  it('with min = max keeps exactly that size', () => {
    const f = compileSizeFilter(42, 42)!;
    expect([41, 42, 43].map(f)).toEqual([false, true, false]);
  });

  it('treats zero bounds as real bounds, not as absent', () => {
    const empty = compileSizeFilter(undefined, 0)!;
    expect(empty).toBeDefined();
    expect(empty(0)).toBe(true);
    expect(empty(1)).toBe(false);
    const any = compileSizeFilter(0)!;
    expect(any).toBeDefined();
    expect(any(0)).toBe(true);
    expect(any(123)).toBe(true);
  });

  it('matches nothing when min > max', () => {
    const f = compileSizeFilter(20, 10)!;
    expect([0, 10, 15, 20, 30].some(f)).toBe(false);
  });

  describe('properties', () => {
    it('agrees with a direct comparison for random bounds', () => {
      fc.assert(
        fc.property(fc.option(sizeArb, { nil: undefined }), fc.option(sizeArb, { nil: undefined }), sizeArb, (min, max, size) => {
          fc.pre(min !== undefined || max !== undefined);
          const expected = (min === undefined || size >= min) && (max === undefined || size <= max);
          expect(compileSizeFilter(min, max)!(size)).toBe(expected);
        }),
      );
    });

    it('agrees with a direct comparison near the bounds', () => {
      fc.assert(
        fc.property(smallSizeArb, smallSizeArb, fc.integer({ min: -2, max: 2 }), fc.boolean(), (a, b, delta, nearMin) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const size = Math.max(0, (nearMin ? min : max) + delta);
          expect(compileSizeFilter(min, max)!(size)).toBe(size >= min && size <= max);
        }),
      );
    });

    it('a range keeps exactly what both one-sided filters keep', () => {
      fc.assert(
        fc.property(smallSizeArb, smallSizeArb, smallSizeArb, (min, max, size) => {
          expect(compileSizeFilter(min, max)!(size)).toBe(compileSizeFilter(min)!(size) && compileSizeFilter(undefined, max)!(size));
        }),
      );
    });
  });
});
