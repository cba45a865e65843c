import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planMoves, suffixedTarget, type MoveRequest, type TargetView } from './plan-moves.js';

const view = (existing: string[] = [], caseInsensitive = false): TargetView => {
  const set = new Set(caseInsensitive ? existing.map((e) => e.toLowerCase()) : existing);
  return { caseInsensitive, exists: (p) => set.has(caseInsensitive ? p.toLowerCase() : p) };
};
const req = (source: string, target: string, size = 1): MoveRequest => ({ source, target, size });

describe('planMoves', () => {
  it('plans independent moves and sums their bytes', () => {
    const sut = planMoves([req('/d/a', '/d/x', 3), req('/d/b', '/d/y', 4)], view(['/d/a', '/d/b']), 'fail');
    expect(sut.conflicts).toEqual([]);
    expect(sut.actions.map((a) => a.target)).toEqual(['/d/x', '/d/y']);
    expect(sut.bytes).toBe(7);
  });

  it('counts a request whose target is its source as unchanged', () => {
    expect(planMoves([req('/d/a', '/d/a')], view(['/d/a']), 'fail')).toMatchObject({ actions: [], unchanged: 1 });
  });

  it('finds two sources planned to one target', () => {
    const sut = planMoves([req('/d/a', '/d/x'), req('/d/b', '/d/x')], view(), 'fail');
    expect(sut.conflicts.map((c) => [c.kind, c.source])).toEqual([['same-target', '/d/b']]);
  });

  it('finds an existing target, and overwrites it only when asked', () => {
    expect(planMoves([req('/d/a', '/d/x')], view(['/d/x']), 'fail').conflicts[0].kind).toBe('target-exists');
    expect(planMoves([req('/d/a', '/d/x')], view(['/d/x']), 'overwrite').actions).toEqual([{ ...req('/d/a', '/d/x'), overwrite: true }]);
    expect(planMoves([req('/d/a', '/d/x')], view(['/d/x']), 'skip')).toMatchObject({ actions: [], conflicts: [], skipped: 1 });
  });

  it('suffixes colliding targets with the first free number', () => {
    const sut = planMoves([req('/d/a', '/d/x.jpg'), req('/d/b', '/d/x.jpg'), req('/d/c', '/d/x.jpg')], view(['/d/x (1).jpg']), 'suffix');
    expect(sut.actions.map((a) => a.target)).toEqual(['/d/x.jpg', '/d/x (2).jpg', '/d/x (3).jpg']);
  });

  it('finds case-only collisions on a case-insensitive destination, and only there', () => {
    const reqs = [req('/d/a', '/d/Photo.JPG'), req('/d/b', '/d/photo.jpg')];
    expect(planMoves(reqs, view([], true), 'fail').conflicts.map((c) => c.kind)).toEqual(['case-collision']);
    expect(planMoves(reqs, view([], false), 'fail').conflicts).toEqual([]);
    expect(planMoves([req('/d/a', '/d/X.txt')], view(['/d/x.TXT'], true), 'fail').conflicts[0].kind).toBe('target-exists');
  });

  it('orders a chain so each target is vacated first', () => {
    const sut = planMoves([req('/d/a', '/d/b'), req('/d/b', '/d/c'), req('/d/c', '/d/d')], view(['/d/a', '/d/b', '/d/c']), 'fail');
    expect(sut.conflicts).toEqual([]);
    expect(sut.actions.map((a) => a.source)).toEqual(['/d/c', '/d/b', '/d/a']);
  });

  it('refuses swaps and cycles, and what waits on them, clearly', () => {
    const sut = planMoves(
      [req('/d/a', '/d/b'), req('/d/b', '/d/a'), req('/d/x', '/d/y'), req('/d/y', '/d/z'), req('/d/z', '/d/x'), req('/d/w', '/d/x')],
      view(['/d/a', '/d/b', '/d/x', '/d/y', '/d/z', '/d/w']),
      'fail',
    );
    expect(sut.actions).toEqual([]);
    expect(sut.conflicts.map((c) => c.kind)).toEqual(['same-target', 'cycle', 'cycle', 'cycle', 'cycle', 'cycle']);
    expect(sut.conflicts.find((c) => c.source === '/d/a')?.detail).toMatch(/cycle or swap/);
  });

  it('keeps a target taken when the request that would vacate it was refused', () => {
    const sut = planMoves([req('/d/a', '/d/b'), req('/d/b', '/d/' + 'n'.repeat(300))], view(['/d/a', '/d/b']), 'fail');
    expect(sut.conflicts.map((c) => [c.kind, c.source])).toEqual([
      ['name-too-long', '/d/b'],
      ['target-exists', '/d/a'],
    ]);
  });

  it('rejects invalid names', () => {
    for (const bad of ['/d/a\0b', '/d//x', '/d/./x', '/d/../x']) {
      expect(planMoves([req('/d/a', bad)], view(), 'fail').conflicts[0].kind).toBe('invalid-name');
    }
    expect(planMoves([req('/d/a', '/d/' + 'é'.repeat(128))], view(), 'fail').conflicts[0].kind).toBe('name-too-long');
  });

  it('never plans two actions to one target, and orders every chain (property)', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, name), { selector: ([s]) => s, maxLength: 6 }),
        fc.constantFrom('fail', 'skip', 'suffix') as fc.Arbitrary<'fail' | 'skip' | 'suffix'>,
        (pairs, policy) => {
          const reqs = pairs.map(([s, t]) => req('/d/' + s, '/d/' + t));
          const plan = planMoves(reqs, view(pairs.map(([s]) => '/d/' + s)), policy);
          const targets = plan.actions.map((a) => a.target);
          expect(new Set(targets).size).toBe(targets.length);
          // Simulate: every target must be free when its action runs.
          const present = new Set(pairs.map(([s]) => '/d/' + s));
          for (const a of plan.actions) {
            expect(present.has(a.target)).toBe(false);
            present.delete(a.source);
            present.add(a.target);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('suffixedTarget keeps the extension and skips taken numbers', () => {
    expect(suffixedTarget('/d/x.tar.gz', (p) => p === '/d/x.tar (1).gz')).toBe('/d/x.tar (2).gz');
    expect(suffixedTarget('/d/README', () => false)).toBe('/d/README (1)');
  });
});
