import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KindCode, parseFilterSpec, type DirListing } from '@filer/core';
import { walkTreeSync } from '@filer/engine';
import { dir, file, makeTree, nativeAddonOff, symlink, type TempTree } from '@filer/testing';
import { LocalSource } from '../src/local/local-source.js';
import { nativeScan } from '../src/local/native-scan.js';

// The native scanner and the node:fs fallback must be interchangeable: same listings, stats, errors.
describe('LocalSource: native scanner and node:fs fallback agree', () => {
  let t: TempTree;
  const sut = { native: new LocalSource(nativeScan), portable: new LocalSource(null) };

  beforeAll(() => {
    t = makeTree({
      'a.csv': file('x'.repeat(2500), { mtime: new Date('2024-05-01T10:20:30.456Z') }),
      'space name.txt': file('1'),
      'ünï cødé.md': file('22'),
      'new\nline': file('333'),
      '-dash': file(''),
      '.hidden/inner.txt': file('h'),
      'sub/deeper/x.log': file('log'),
      empty: dir(),
      'link-file': symlink('a.csv'),
      'link-dir': symlink('sub'),
      dangling: symlink('nowhere'),
      loop: symlink('.'),
    });
  });
  afterAll(() => t.cleanup());

  it.skipIf(nativeAddonOff)('the native scanner was built on install', () => {
    expect(nativeScan).not.toBeNull();
  });

  it('lists the same names with the same kinds', () => {
    const entries = (l: DirListing) => l.names.map((name, i) => [name, l.kinds[i]]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    for (const d of [t.root, t.path('sub'), t.path('empty')]) {
      expect(entries(sut.native.listDir(d))).toEqual(entries(sut.portable.listDir(d)));
    }
    const root = sut.native.listDir(t.root);
    expect(root.kinds[root.names.indexOf('link-dir')]).toBe(KindCode.Symlink);
    expect(root.kinds[root.names.indexOf('sub')]).toBe(KindCode.Dir);
    expect(root.names).toHaveLength(12);
  });

  it('stats the same values, with and without following links, and reports the same error codes', () => {
    const names = ['a.csv', 'new\nline', 'link-file', 'link-dir', 'dangling', 'sub', 'missing'];
    for (const follow of [false, true]) {
      const n = sut.native.statMany(t.root, names, follow);
      const p = sut.portable.statMany(t.root, names, follow);
      expect(n.map((r) => ('error' in r ? r.error.code : r))).toEqual(p.map((r) => ('error' in r ? r.error.code : r)));
    }
    // One or two names take the full-path branch of the native scanner, more take the dirfd one.
    for (const few of [['missing'], ['a.csv', 'dangling'], ['dangling', 'link-dir']]) {
      for (const follow of [false, true]) {
        const n = sut.native.statMany(t.root, few, follow);
        expect(n.map((r) => ('error' in r ? r.error.code : r))).toEqual(
          sut.portable.statMany(t.root, few, follow).map((r) => ('error' in r ? r.error.code : r)),
        );
      }
    }
    const [csv] = sut.native.statMany(t.root, ['a.csv'], false);
    expect(csv).toMatchObject({ kind: 'file', size: 2500, mtimeMs: Date.parse('2024-05-01T10:20:30.456Z') });
  });

  it('throws the errno code for a directory it cannot list', () => {
    for (const s of [sut.native, sut.portable]) {
      expect(() => s.listDir(t.path('missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => s.listDir(t.path('a.csv'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    }
  });

  it('walks to the same results, following links too', () => {
    for (const follow of [false, true]) {
      const spec = parseFilterSpec({ hidden: true, follow });
      const a = walkTreeSync(sut.native, [t.root], spec, true);
      const b = walkTreeSync(sut.portable, [t.root], spec, true);
      const byPath = (x: { path: string }, y: { path: string }) => (x.path < y.path ? -1 : 1);
      expect(a.entries.sort(byPath)).toEqual(b.entries.sort(byPath));
      expect(a.errors.map((e) => [e.path, e.code])).toEqual(b.errors.map((e) => [e.path, e.code]));
      expect(a.entries.length).toBeGreaterThan(4);
    }
  });
});
