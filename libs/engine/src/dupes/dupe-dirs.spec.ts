import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findDupeDirs, type DirOtherEntry } from './dupe-dirs.js';
import type { DupeGroup } from './dupe-types.js';

/**
 * What a dupes run would give for `files` (path → content): a group per content held by two or
 * more files (hash = the content itself), every other file as an "other" entry.
 */
function run(files: Record<string, string>, roots = ['/r']): ReturnType<typeof findDupeDirs> {
  const byContent = new Map<string, string[]>();
  for (const [p, c] of Object.entries(files)) byContent.set(c, [...(byContent.get(c) ?? []), p]);
  const groups: DupeGroup[] = [];
  const others: DirOtherEntry[] = [];
  for (const [c, paths] of byContent) {
    if (c === '') for (const p of paths) others.push({ path: p, size: 0, content: 'empty' });
    else if (paths.length > 1) groups.push({ size: c.length, hash: `h(${c})`, paths, wasted: c.length * (paths.length - 1) });
    else others.push({ path: paths[0], size: c.length, content: 'unique' });
  }
  return findDupeDirs(roots, groups, others);
}

const tree = fc.dictionary(
  fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).map((s) => s.join('/').replace(/\/$/, '')),
  fc.stringMatching(/^[xyz]{1,4}$/),
  { minKeys: 1, maxKeys: 8 },
);

/** A tree whose paths are valid: no file name is also a directory on another path. */
const validTree = tree.filter((t) => Object.keys(t).every((p) => !Object.keys(t).some((q) => q.startsWith(p + '/'))));

const place = (t: Record<string, string>, under: string): Record<string, string> =>
  Object.fromEntries(Object.entries(t).map(([p, c]) => [`${under}/${p}`, c]));

describe('findDupeDirs', () => {
  it('property: a tree copied under two names is an equal pair, and the outermost one', () => {
    fc.assert(
      fc.property(validTree, fc.stringMatching(/^[qw]{1,3}$/), (t, noise) => {
        const r = run({ ...place(t, '/r/one'), ...place(t, '/r/two'), '/r/other/n': noise + 'unique-elsewhere' });
        expect(r.equal[0]?.dirs).toEqual(['/r/one', '/r/two']);
        const bytes = Object.values(t).reduce((s, c) => s + c.length, 0);
        expect(r.equal[0]).toMatchObject({ bytes, files: Object.keys(t).length });
        // Nothing inside the pair is reported again, nor are its halves "all duplicated".
        expect(r.equal.flatMap((g) => g.dirs).filter((d) => d.startsWith('/r/one/'))).toEqual([]);
        expect(r.duplicated.filter((d) => d.dir.startsWith('/r/one') || d.dir.startsWith('/r/two'))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('property: one byte changed in one file breaks the pair', () => {
    fc.assert(
      fc.property(validTree, fc.nat(), (t, pick) => {
        const paths = Object.keys(t).sort();
        const victim = paths[pick % paths.length];
        const changed = { ...t, [victim]: t[victim].slice(0, -1) + 'Q' };
        const r = run({ ...place(t, '/r/one'), ...place(changed, '/r/two') });
        expect(r.equal.flatMap((g) => g.dirs)).not.toContain('/r/one');
        expect(r.equal.flatMap((g) => g.dirs)).not.toContain('/r/two');
      }),
      { numRuns: 300 },
    );
  });

  it('property: an extra unique file makes a copy neither equal nor all duplicated; an extra duplicated one only all duplicated', () => {
    fc.assert(
      fc.property(validTree, (t) => {
        const unique = run({ ...place(t, '/r/one'), ...place(t, '/r/two'), '/r/two/EXTRA': 'only-here' });
        expect(unique.equal.flatMap((g) => g.dirs)).not.toContain('/r/two');
        expect(unique.duplicated.map((d) => d.dir)).not.toContain('/r/two');
        // /r/one is still wholly inside /r/two: every file of it has a copy elsewhere.
        expect(unique.duplicated.map((d) => d.dir)).toContain('/r/one');
        const dup = run({ ...place(t, '/r/one'), ...place(t, '/r/two'), '/r/two/EXTRA': 'kept-in-x', '/r/x/k': 'kept-in-x' });
        expect(dup.equal.flatMap((g) => g.dirs)).not.toContain('/r/two');
        expect(dup.duplicated.map((d) => d.dir)).toContain('/r/two');
      }),
      { numRuns: 200 },
    );
  });

  it('nested equal pairs: only the outermost, unless a member stands outside an equal parent', () => {
    const inner = { 'd/1': 'aaa', 'd/2': 'bbbb' };
    const r = run({ ...place(inner, '/r/A'), ...place(inner, '/r/B'), '/r/A/top': 'cc', '/r/B/top': 'cc' });
    expect(r.equal).toEqual([{ bytes: 9, files: 3, dirs: ['/r/A', '/r/B'] }]);
    expect(r.duplicated).toEqual([]);
    // A third copy of d outside the pair: the set of three is reported, with the two inner ones.
    const three = run({ ...place(inner, '/r/A'), ...place(inner, '/r/B'), '/r/A/top': 'cc', '/r/B/top': 'cc', ...place(inner, '/r/C') });
    expect(three.equal.map((g) => g.dirs)).toEqual([
      ['/r/A', '/r/B'],
      ['/r/A/d', '/r/B/d', '/r/C/d'],
    ]);
  });

  it('ignores folders without files, counts empty files by name, and sorts by bytes', () => {
    const r = run({ '/r/s/a/e': '', '/r/s/a/f': 'xx', '/r/s/b/e': '', '/r/s/b/f': 'xx', '/r/big/1/g': 'yyyyy', '/r/big/2/g': 'yyyyy' });
    expect(r.equal.map((g) => [g.bytes, g.dirs])).toEqual([
      [5, ['/r/big/1', '/r/big/2']],
      [2, ['/r/s/a', '/r/s/b']],
    ]);
    const renamed = run({ '/r/a/e1': '', '/r/a/f': 'xx', '/r/b/e2': '', '/r/b/f': 'xx' });
    expect(renamed.equal).toEqual([]);
    expect(renamed.duplicated.map((d) => d.dir)).toEqual(['/r/a', '/r/b']);
  });

  it('compares roots themselves, and never looks above a root', () => {
    const r = run({ '/x/1': 'aa', '/y/1': 'aa', '/y/2': 'zzz' }, ['/x/', '/y']);
    expect(r.equal).toEqual([]);
    expect(r.duplicated).toEqual([{ dir: '/x', bytes: 2, files: 1 }]);
    expect(run({ '/x/1': 'aa', '/y/1': 'aa' }, ['/x', '/y']).equal).toEqual([{ bytes: 2, files: 1, dirs: ['/x', '/y'] }]);
    // A root inside another is one of its directories: /b holds sub/u, so it is no copy of /a.
    const nested = run({ '/a/1': 'aa', '/b/1': 'aa', '/b/sub/u': 'unique' }, ['/a', '/b', '/b/sub']);
    expect(nested.equal).toEqual([]);
    expect(nested.duplicated).toEqual([{ dir: '/a', bytes: 2, files: 1 }]);
  });
});
