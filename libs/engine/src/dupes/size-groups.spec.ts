import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { groupBySize, splitByKey } from './size-groups.js';
import type { DupeFile } from './dupe-types.js';

let nextIno = 1000;
/** A file on device 1 with a fresh inode unless one is given. */
const f = (path: string, size: number, ino = nextIno++, dev = 1): DupeFile => ({ path, size, dev, ino, mtimeSec: 1, mtimeNsec: 2 });
const paths = (groups: DupeFile[][]): string[][] => groups.map((g) => g.map((x) => x.path));

describe('groupBySize', () => {
  it('groups files by size, only sizes shared by two or more inodes, largest size first', () => {
    const r = groupBySize([f('/a', 10), f('/b', 300), f('/c', 10), f('/d', 7), f('/e', 300), f('/g', 300), f('/h', 20)], false);
    expect(paths(r.groups)).toEqual([
      ['/b', '/e', '/g'],
      ['/a', '/c'],
    ]);
    expect(r.files).toBe(7);
    expect(r.hardLinks).toBe(0);
    expect(r.emptySkipped).toBe(0);
  });

  it('collapses hard links to one file represented by its smallest path, whatever the order', () => {
    const links = [f('/z/link', 50, 7), f('/a/orig', 50, 7), f('/m/third', 50, 7)];
    for (const order of [links, [...links].reverse(), [links[1], links[0], links[2]]]) {
      const r = groupBySize([...order, f('/copy', 50, 8)], false);
      expect(paths(r.groups)).toEqual([[expect.any(String), expect.any(String)]]);
      expect(r.groups[0].map((x) => x.path).sort()).toEqual(['/a/orig', '/copy']);
      expect(r.files).toBe(2);
      expect(r.hardLinks).toBe(2);
    }
  });

  it('never groups the names of one inode with each other', () => {
    const r = groupBySize([f('/a', 50, 7), f('/b', 50, 7), f('/c', 50, 7)], false);
    expect(r.groups).toEqual([]);
    expect(r.files).toBe(1);
    expect(r.hardLinks).toBe(2);
  });

  it('counts a path listed twice (overlapping roots) as one name, in any order', () => {
    const a = f('/a', 50, 7);
    const b = f('/b', 50, 7);
    for (const order of [
      [a, b, a],
      [b, a, b],
      [a, a, b, b],
    ]) {
      const r = groupBySize([...order, f('/copy', 50, 8)], false);
      expect(r.hardLinks).toBe(1);
      expect(r.files).toBe(2);
      expect(paths(r.groups)).toEqual([['/a', '/copy']]);
    }
  });

  it('finds the inodes of a large size group (indexed, not compared pairwise) like a small one', () => {
    const many = Array.from({ length: 40 }, (_, i) => f(`/f${String(i).padStart(2, '0')}`, 9, 500 + (i % 10), 1 + (i % 2)));
    const r = groupBySize(many.reverse(), false);
    // 10 inode numbers on 2 devices, but i % 10 and i % 2 pair up: inode 500 + k lives on device 1 + (k % 2) only.
    expect(r.files).toBe(10);
    expect(r.hardLinks).toBe(30);
    expect(paths(r.groups)[0].sort()).toEqual(['/f00', '/f01', '/f02', '/f03', '/f04', '/f05', '/f06', '/f07', '/f08', '/f09']);
  });

  it('tells inodes apart by device too', () => {
    const r = groupBySize([f('/x/a', 50, 7, 1), f('/y/a', 50, 7, 2)], false);
    expect(paths(r.groups)).toEqual([['/x/a', '/y/a']]);
    expect(r.hardLinks).toBe(0);
    expect(r.files).toBe(2);
  });

  it('skips empty files unless asked, counting them (after collapsing hard links)', () => {
    const files = [f('/e1', 0), f('/e2', 0), f('/e3', 0, 99), f('/e3-link', 0, 99), f('/a', 1), f('/b', 1)];
    const skip = groupBySize(files, false);
    expect(paths(skip.groups)).toEqual([['/a', '/b']]);
    expect(skip.emptySkipped).toBe(3);
    expect(skip.hardLinks).toBe(1);
    expect(skip.files).toBe(5);

    const keep = groupBySize(files, true);
    expect(paths(keep.groups)).toEqual([
      ['/a', '/b'],
      ['/e1', '/e2', '/e3'],
    ]);
    expect(keep.emptySkipped).toBe(0);
    expect(keep.files).toBe(5);
  });

  it('a single empty file is not a group even with includeEmpty', () => {
    expect(groupBySize([f('/e', 0), f('/a', 3)], true).groups).toEqual([]);
  });

  it('property: every group is one size, distinct inodes, and every shared size appears exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.integer({ min: 0, max: 5 }), ino: fc.integer({ min: 1, max: 12 }) }), { maxLength: 40 }),
        fc.boolean(),
        (specs, includeEmpty) => {
          // One inode has one size: the first seen wins.
          const sizeOf = new Map<number, number>();
          const files = specs.map((s, i) => {
            if (!sizeOf.has(s.ino)) sizeOf.set(s.ino, s.size);
            return f(`/p${String(i).padStart(3, '0')}`, sizeOf.get(s.ino)!, s.ino);
          });
          const r = groupBySize(files, includeEmpty);
          const inodesBySize = new Map<number, Set<number>>();
          for (const [ino, size] of sizeOf) {
            if (size === 0 && !includeEmpty) continue;
            const set = inodesBySize.get(size) ?? new Set<number>();
            set.add(ino);
            inodesBySize.set(size, set);
          }
          const expectedSizes = [...inodesBySize].filter(([, s]) => s.size > 1).map(([size]) => size);
          expect(r.groups.map((g) => g[0].size)).toEqual(expectedSizes.sort((a, b) => b - a));
          for (const g of r.groups) {
            expect(new Set(g.map((x) => x.size)).size).toBe(1);
            expect(new Set(g.map((x) => x.ino)).size).toBe(g.length);
            expect(g.length).toBe(inodesBySize.get(g[0].size)!.size);
            for (const x of g) {
              const smallest = files.filter((y) => y.ino === x.ino).map((y) => y.path)[0];
              expect(x.path).toBe(smallest);
            }
          }
          expect(r.files).toBe(sizeOf.size);
          expect(r.hardLinks).toBe(files.length - sizeOf.size);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('splitByKey', () => {
  it('keeps sub-groups of two or more in first-seen order, members in input order', () => {
    expect(splitByKey(['a', 'b', 'c', 'd', 'e', 'f'], ['x', 'y', 'x', 'z', 'y', 'x'])).toEqual([
      ['a', 'c', 'f'],
      ['b', 'e'],
    ]);
  });

  it('drops members whose key is undefined (they failed)', () => {
    expect(splitByKey([1, 2, 3, 4], ['k', undefined, 'k', undefined])).toEqual([[1, 3]]);
    expect(splitByKey([1, 2], [undefined, undefined])).toEqual([]);
  });

  it('returns nothing when every key is unique or there are no members', () => {
    expect(splitByKey(['a', 'b', 'c'], ['1', '2', '3'])).toEqual([]);
    expect(splitByKey([], [])).toEqual([]);
  });

  it('compares keys exactly (no case folding or trimming)', () => {
    expect(splitByKey(['a', 'b', 'c', 'd'], ['ab', 'AB', 'ab ', 'ab'])).toEqual([['a', 'd']]);
  });
});
