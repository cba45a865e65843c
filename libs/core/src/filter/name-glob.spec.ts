import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GLOB_OPTIONS, compileNameGlobFilter } from './name-glob.js';

/** Names made of characters that are never glob syntax. */
const literalNameArb = fc
  .tuple(fc.boolean(), fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,11}$/))
  .map(([dot, rest]) => (dot ? '.' + rest : rest));
const stemArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/);
const extArb = fc.stringMatching(/^[a-z0-9]{1,5}$/);

describe('compileNameGlobFilter', () => {
  it('is undefined without globs', () => {
    expect(compileNameGlobFilter([])).toBeUndefined();
  });

  it('shares options in which * matches a leading dot', () => {
    expect(GLOB_OPTIONS).toEqual({ dot: true });
  });

  it('matches * and ? against the base name', () => {
    const f = compileNameGlobFilter(['*.txt'])!;
    expect(f('notes.txt')).toBe(true);
    expect(f('a.b.txt')).toBe(true);
    expect(f('notes.md')).toBe(false);
    expect(f('notes.txt.bak')).toBe(false);
    const q = compileNameGlobFilter(['file?.log'])!;
    expect(q('file1.log')).toBe(true);
    expect(q('file12.log')).toBe(false);
    expect(q('file.log')).toBe(false);
  });

  it('lets * match a leading dot, as find -name does', () => {
    const f = compileNameGlobFilter(['*.txt'])!;
    expect(f('.hidden.txt')).toBe(true);
    expect(f('.txt')).toBe(true);
    const star = compileNameGlobFilter(['*'])!;
    expect(star('.env')).toBe(true);
    expect(star('plain')).toBe(true);
    expect(compileNameGlobFilter(['.*'])!('.env')).toBe(true);
    expect(compileNameGlobFilter(['.*'])!('env')).toBe(false);
  });

  it('supports braces and character classes', () => {
    const f = compileNameGlobFilter(['*.{js,ts}'])!;
    expect(f('a.js')).toBe(true);
    expect(f('a.ts')).toBe(true);
    expect(f('a.jsx')).toBe(false);
    const c = compileNameGlobFilter(['[abc]*.md'])!;
    expect(c('b.md')).toBe(true);
    expect(c('cat.md')).toBe(true);
    expect(c('d.md')).toBe(false);
    const r = compileNameGlobFilter(['img[0-9].png'])!;
    expect(r('img7.png')).toBe(true);
    expect(r('imgx.png')).toBe(false);
  });

  it('matches the whole name, not a part of it', () => {
    const f = compileNameGlobFilter(['foo'])!;
    expect(f('foo')).toBe(true);
    expect(f('foobar')).toBe(false);
    expect(f('xfoo')).toBe(false);
    expect(compileNameGlobFilter(['Makefile'])!('Makefile')).toBe(true);
  });

  it('is case-sensitive, as find -name is', () => {
    const f = compileNameGlobFilter(['*.txt'])!;
    expect(f('A.TXT')).toBe(false);
    expect(f('a.txt')).toBe(true);
  });

  it('matches if any one of several globs matches', () => {
    const f = compileNameGlobFilter(['*.rs', 'Cargo.*', 'README'])!;
    expect(f('main.rs')).toBe(true);
    expect(f('Cargo.toml')).toBe(true);
    expect(f('README')).toBe(true);
    expect(f('README.md')).toBe(false);
    expect(f('lib.ts')).toBe(false);
  });

  describe('properties', () => {
    it('a glob-free name matches itself', () => {
      fc.assert(
        fc.property(literalNameArb, (name) => {
          expect(compileNameGlobFilter([name])!(name)).toBe(true);
        }),
      );
    });

    it('a glob-free name matches no other name', () => {
      fc.assert(
        fc.property(literalNameArb, literalNameArb, (glob, name) => {
          fc.pre(glob !== name);
          expect(compileNameGlobFilter([glob])!(name)).toBe(false);
        }),
      );
    });

    it('*.ext matches every name ending in .ext, dotted or not, and nothing ending otherwise', () => {
      fc.assert(
        fc.property(fc.boolean(), stemArb, extArb, extArb, (dot, stem, ext, other) => {
          const f = compileNameGlobFilter([`*.${ext}`])!;
          const prefix = dot ? '.' : '';
          expect(f(`${prefix}${stem}.${ext}`)).toBe(true);
          expect(f(`${prefix}${stem}.${other}`)).toBe(other === ext);
        }),
      );
    });

    it('prefix* matches exactly the names starting with the prefix', () => {
      fc.assert(
        fc.property(stemArb, literalNameArb, (prefix, name) => {
          expect(compileNameGlobFilter([`${prefix}*`])!(name)).toBe(name.startsWith(prefix));
        }),
      );
    });

    it('several globs match exactly when one of them alone does', () => {
      const globArb = fc.oneof(
        literalNameArb,
        extArb.map((e) => `*.${e}`),
        stemArb.map((s) => `${s}*`),
      );
      fc.assert(
        fc.property(fc.array(globArb, { minLength: 2, maxLength: 4 }), literalNameArb, (globs, name) => {
          const several = compileNameGlobFilter(globs)!;
          expect(several(name)).toBe(globs.some((g) => compileNameGlobFilter([g])!(name)));
        }),
      );
    });
  });
});
