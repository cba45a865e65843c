import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDupeDirs, type DupeGroup } from '@filer/engine';
import { DupeDirsOnDisk } from '../src/dupes/dupe-dirs-on-disk.js';
import { otherEntries } from '../src/dupes/dir-other-entries.js';

/**
 * Differential: `filer dupes --dirs` on disk (DupeDirsOnDisk, rows in a scratch SQLite file) gives
 * what the engine's findDupeDirs gives in memory over the same groups and otherEntries' listing,
 * on real trees: random files (some empty, some unique, some copied), random subtrees copied whole,
 * symlinks and directories holding no file.
 */
let tmp: string;
beforeAll(() => void (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dirs-disk-'))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const relPath = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
const spec = fc.record({
  files: fc.dictionary(relPath, fc.constantFrom('', 'x', 'y', 'zz', 'unique-1', 'unique-2'), { minKeys: 1, maxKeys: 10 }),
  copies: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'a/b'), fc.constantFrom('q', 'r/s')), { maxLength: 2 }),
  link: fc.boolean(),
  // A unique file beside copied ones, a level or two into a copy: the copy is then equal to nothing.
  extra: fc.option(fc.constantFrom('q/a/u', 'q/b/u', 'q/c/u', 'q/a/b/u', 'q/b/c/u', 'q/deep/u', 'r/s/u'), { nil: undefined }),
});

const isDir = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};

type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;
let n = 0;
function build(s: Spec): { root: string; groups: DupeGroup[] } {
  const root = path.join(tmp, `t${n++}`);
  const keys = Object.keys(s.files).filter((p) => !Object.keys(s.files).some((q) => q.startsWith(p + '/')));
  for (const p of keys) {
    fs.mkdirSync(path.dirname(path.join(root, 'src', p)), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', p), s.files[p]);
  }
  fs.mkdirSync(path.join(root, 'src', 'only-dirs', 'deeper'), { recursive: true });
  for (const [from, to] of s.copies)
    if (isDir(path.join(root, 'src', from)) && !fs.existsSync(path.join(root, to)))
      fs.cpSync(path.join(root, 'src', from), path.join(root, to), { recursive: true });
  if (s.extra !== undefined && isDir(path.dirname(path.join(root, s.extra)))) fs.writeFileSync(path.join(root, s.extra), 'extra-unique');
  if (s.link) fs.symlinkSync('nowhere', path.join(root, 'src', 'link'));
  // The groups a dupes run would find: every non-empty content held by two or more files (hash = the content).
  const byContent = new Map<string, string[]>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) byContent.set(fs.readFileSync(p, 'utf8'), [...(byContent.get(fs.readFileSync(p, 'utf8')) ?? []), p]);
    }
  };
  walk(root);
  const groups: DupeGroup[] = [];
  for (const [c, paths] of byContent)
    if (c !== '' && paths.length > 1)
      groups.push({ size: c.length, hash: `h(${c})`, paths: paths.sort(), wasted: c.length * (paths.length - 1) });
  return { root, groups };
}

describe('DupeDirsOnDisk', () => {
  it('property: the same equal sets and all-duplicated directories as findDupeDirs in memory', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const { root, groups } = build(s);
        const expected = findDupeDirs([root], groups, otherEntries([root], groups));
        const sut = new DupeDirsOnDisk([root], path.join(tmp, 'spill'));
        try {
          sut.addGroups(groups);
          sut.addOtherEntries();
          sut.rank();
          expect({ equal: [...sut.equalSets()], duplicated: [...sut.duplicatedDirs()] }).toEqual(expected);
        } finally {
          sut.close();
        }
      }),
      { numRuns: 100 },
    );
    // Every scratch file removed.
    expect(fs.readdirSync(path.join(tmp, 'spill'))).toEqual([]);
  });

  it('finds a copied tree as an equal pair with its size and file count', () => {
    const { root, groups } = build({
      files: { 'a/1': 'x', 'a/b/2': 'zz', 'c/3': 'unique-1' },
      copies: [['a', 'q']],
      link: false,
      extra: undefined,
    });
    const sut = new DupeDirsOnDisk([root], path.join(tmp, 'spill'));
    try {
      sut.addGroups(groups);
      sut.addOtherEntries();
      sut.rank();
      expect([...sut.equalSets()]).toEqual([{ bytes: 3, files: 2, dirs: [path.join(root, 'q'), path.join(root, 'src/a')] }]);
    } finally {
      sut.close();
    }
  });
});
