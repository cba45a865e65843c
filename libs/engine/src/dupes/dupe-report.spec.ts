import { describe, expect, it } from 'vitest';
import { toDupeGroups } from './dupe-report.js';
import type { DupeFile } from './dupe-types.js';

let ino = 1;
const files = (size: number, ...paths: string[]): DupeFile[] =>
  paths.map((path) => ({ path, size, dev: 1, ino: ino++, mtimeSec: 0, mtimeNsec: 0 }));

describe('toDupeGroups', () => {
  it('computes wasted = size × (copies − 1) and keeps size and hash', () => {
    expect(toDupeGroups([{ files: files(1000, '/a', '/b', '/c'), hash: 'h1' }])).toEqual([
      { size: 1000, hash: 'h1', paths: ['/a', '/b', '/c'], wasted: 2000 },
    ]);
  });

  it('sorts paths in byte order (uppercase before lowercase, no locale)', () => {
    const [g] = toDupeGroups([{ files: files(5, '/x/b', '/x/é', '/x/B', '/x/a', '/x/Z', '/x/a b'), hash: 'h' }]);
    expect(g.paths).toEqual(['/x/B', '/x/Z', '/x/a', '/x/a b', '/x/b', '/x/é']);
  });

  it('orders groups by wasted bytes, then size, then first path', () => {
    const groups = toDupeGroups([
      { files: files(10, '/s1', '/s2'), hash: 'small' }, // wasted 10
      { files: files(1500, '/t3', '/t1', '/t2'), hash: 'triple' }, // wasted 3000
      { files: files(3000, '/p2', '/p1'), hash: 'pair' }, // wasted 3000, larger size
      { files: files(100, '/z1', '/z2'), hash: 'z' }, // wasted 100
      { files: files(100, '/y1', '/y2'), hash: 'y' }, // wasted 100, same size: first path decides
      { files: files(20, '/q1', '/q2', '/q3', '/q4', '/q5', '/q6'), hash: 'many' }, // wasted 100, smaller size
      { files: files(5000, '/big1', '/big2'), hash: 'big' }, // wasted 5000
    ]);
    expect(groups.map((g) => [g.hash, g.wasted])).toEqual([
      ['big', 5000],
      ['pair', 3000],
      ['triple', 3000],
      ['y', 100],
      ['z', 100],
      ['many', 100],
      ['small', 10],
    ]);
    expect(groups[2].paths).toEqual(['/t1', '/t2', '/t3']);
  });

  it('reports an empty-file group with zero wasted bytes', () => {
    expect(toDupeGroups([{ files: files(0, '/e2', '/e1'), hash: 'empty' }])).toEqual([
      { size: 0, hash: 'empty', paths: ['/e1', '/e2'], wasted: 0 },
    ]);
  });

  it('returns nothing for no groups', () => {
    expect(toDupeGroups([])).toEqual([]);
  });
});
