import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileTimeFilter } from './time-range.js';

const T = Date.UTC(2024, 4, 1, 12);
const timeArb = fc.integer({ min: 0, max: 4_102_444_800_000 });

describe('compileTimeFilter', () => {
  it('is undefined without bounds', () => {
    expect(compileTimeFilter()).toBeUndefined();
    expect(compileTimeFilter(undefined, undefined)).toBeUndefined();
  });

  it('newer keeps entries modified strictly after the point', () => {
    const f = compileTimeFilter(T)!;
    expect(f(T - 1)).toBe(false);
    expect(f(T)).toBe(false);
    expect(f(T + 1)).toBe(true);
    expect(f(T + 1e12)).toBe(true);
  });

  it('older keeps entries modified strictly before the point', () => {
    const f = compileTimeFilter(undefined, T)!;
    expect(f(T - 1)).toBe(true);
    expect(f(T)).toBe(false);
    expect(f(T + 1)).toBe(false);
    expect(f(0)).toBe(true);
  });

  it('both keep the open interval between them', () => {
    const f = compileTimeFilter(T, T + 10)!;
    expect([T - 1, T, T + 1, T + 5, T + 9, T + 10, T + 11].map(f)).toEqual([false, false, true, true, true, false, false]);
  });

  it('matches nothing when newer >= older', () => {
    expect([T - 1, T, T + 1].some(compileTimeFilter(T, T)!)).toBe(false);
    expect([T - 100, T, T + 100].some(compileTimeFilter(T + 10, T)!)).toBe(false);
  });

  it('treats the epoch (0) as a real bound and handles fractional and pre-epoch mtimes', () => {
    const f = compileTimeFilter(0)!;
    expect(f).toBeDefined();
    expect(f(0)).toBe(false);
    expect(f(0.5)).toBe(true);
    expect(f(-1)).toBe(false);
    const g = compileTimeFilter(undefined, 0)!;
    expect(g(-1)).toBe(true);
    expect(g(0)).toBe(false);
    expect(compileTimeFilter(T)!(T + 0.001)).toBe(true);
  });

  describe('properties', () => {
    it('agrees with a direct strict comparison for random bounds', () => {
      fc.assert(
        fc.property(fc.option(timeArb, { nil: undefined }), fc.option(timeArb, { nil: undefined }), timeArb, (newer, older, mtime) => {
          fc.pre(newer !== undefined || older !== undefined);
          const expected = (newer === undefined || mtime > newer) && (older === undefined || mtime < older);
          expect(compileTimeFilter(newer, older)!(mtime)).toBe(expected);
        }),
      );
    });

    it('agrees with a direct comparison right at the bounds', () => {
      fc.assert(
        fc.property(timeArb, fc.nat({ max: 1000 }), fc.integer({ min: -2, max: 2 }), fc.boolean(), (newer, width, delta, atNewer) => {
          const older = newer + width;
          const mtime = (atNewer ? newer : older) + delta;
          expect(compileTimeFilter(newer, older)!(mtime)).toBe(mtime > newer && mtime < older);
        }),
      );
    });
  });
});
