import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileExtensionFilter, normalizeExtensions } from './extension.js';

const stemArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const extArb = fc.stringMatching(/^[a-z0-9]{1,6}$/);

describe('normalizeExtensions', () => {
  it('lower-cases, trims and drops leading dots', () => {
    expect(normalizeExtensions(['TXT', '.Md', ' .rs ', '..gz'])).toEqual(['txt', 'md', 'rs', 'gz']);
  });

  it('keeps inner dots (multi-part extensions)', () => {
    expect(normalizeExtensions(['.tar.gz', 'TAR.GZ'])).toEqual(['tar.gz']);
  });

  it('drops empties, including values that are only dots or spaces', () => {
    expect(normalizeExtensions(['', ' ', '.', '...', 'txt'])).toEqual(['txt']);
    expect(normalizeExtensions([])).toEqual([]);
  });

  it('removes duplicates after normalising, keeping first-seen order', () => {
    expect(normalizeExtensions(['md', 'TXT', '.txt', 'MD', 'rs'])).toEqual(['md', 'txt', 'rs']);
  });

  it('property: output is lower case, dot-free at the start, non-empty and unique', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }), { maxLength: 8 }), (values) => {
        const out = normalizeExtensions(values);
        expect(new Set(out).size).toBe(out.length);
        for (const e of out) {
          expect(e).not.toBe('');
          expect(e.startsWith('.')).toBe(false);
          expect(e).toBe(e.toLowerCase());
        }
      }),
    );
  });

  it('property: idempotent (for values without whitespace right after the leading dots)', () => {
    // Trimming happens before the dots are stripped, so '. x' becomes ' x' and only a second pass gives 'x'.
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }), { maxLength: 8 }), (values) => {
        fc.pre(values.every((v) => !/^\s*\.+\s/.test(v)));
        const once = normalizeExtensions(values);
        expect(normalizeExtensions(once)).toEqual(once);
      }),
    );
  });

  it('property: any casing, dots and padding of one extension normalise to it', () => {
    const casedExt = extArb.chain((ext) => fc.mixedCase(fc.constant(ext)).map((messy) => ({ ext, messy })));
    fc.assert(
      fc.property(casedExt, fc.nat({ max: 3 }), fc.constantFrom('', ' ', '  '), ({ ext, messy }, dots, pad) => {
        expect(normalizeExtensions([`${pad}${'.'.repeat(dots)}${messy}${pad}`])).toEqual([ext]);
      }),
    );
  });
});

describe('compileExtensionFilter', () => {
  it('is undefined when there are no extensions (no test to run)', () => {
    expect(compileExtensionFilter([])).toBeUndefined();
  });

  it('matches a name ending in .ext', () => {
    const f = compileExtensionFilter(['txt'])!;
    expect(f('notes.txt')).toBe(true);
    expect(f('a.b.txt')).toBe(true);
    expect(f('notes.md')).toBe(false);
    expect(f('notes.txt.bak')).toBe(false);
    expect(f('notestxt')).toBe(false);
    expect(f('txt')).toBe(false);
    expect(f('')).toBe(false);
  });

  it('only matches whole extensions, not suffixes of them', () => {
    const f = compileExtensionFilter(['s'])!;
    expect(f('main.s')).toBe(true);
    expect(f('main.rs')).toBe(false);
    expect(f('main.ts')).toBe(false);
  });

  it('matches case-insensitively', () => {
    const f = compileExtensionFilter(['txt'])!;
    expect(f('NOTES.TXT')).toBe(true);
    expect(f('notes.Txt')).toBe(true);
    expect(f('README.tXt')).toBe(true);
  });

  it('supports multi-part extensions like tar.gz', () => {
    const f = compileExtensionFilter(['tar.gz'])!;
    expect(f('backup.tar.gz')).toBe(true);
    expect(f('BACKUP.TAR.GZ')).toBe(true);
    expect(f('backup.gz')).toBe(false);
    expect(f('backup.tgz')).toBe(false);
    const gz = compileExtensionFilter(['gz'])!;
    expect(gz('backup.tar.gz')).toBe(true);
  });

  it('matches any of several extensions', () => {
    const f = compileExtensionFilter(['ts', 'js', 'md'])!;
    expect(f('a.ts')).toBe(true);
    expect(f('a.JS')).toBe(true);
    expect(f('README.md')).toBe(true);
    expect(f('a.rs')).toBe(false);
    expect(f('a.tsx')).toBe(false);
    expect(f('ts')).toBe(false);
  });

  it('treats a dotfile named like the extension the same with one or several extensions', () => {
    // `.txt` ends in `.txt`: both code paths agree on it.
    expect(compileExtensionFilter(['txt'])!('.txt')).toBe(compileExtensionFilter(['txt', 'md'])!('.txt'));
  });

  it('works with the output of normalizeExtensions for messy user input', () => {
    const f = compileExtensionFilter(normalizeExtensions(['.TXT', ' Md ']))!;
    expect(f('a.txt')).toBe(true);
    expect(f('a.MD')).toBe(true);
    expect(f('a.rs')).toBe(false);
  });

  describe('properties', () => {
    it('a name stem.ext matches ext in any casing of the name', () => {
      const casedName = fc
        .tuple(stemArb, extArb)
        .chain(([stem, ext]) => fc.mixedCase(fc.constant(`${stem}.${ext}`)).map((name) => ({ ext, name })));
      fc.assert(
        fc.property(casedName, ({ ext, name }) => {
          const f = compileExtensionFilter([ext])!;
          expect(f(name)).toBe(true);
          expect(f(name.toUpperCase())).toBe(true);
          expect(f(name.toLowerCase())).toBe(true);
        }),
      );
    });

    it('casing of the name never changes the answer', () => {
      fc.assert(
        fc.property(
          fc.mixedCase(fc.stringMatching(/^[a-z0-9.]{0,12}$/)),
          fc.array(extArb, { minLength: 1, maxLength: 3 }),
          (name, exts) => {
            const f = compileExtensionFilter(exts)!;
            expect(f(name)).toBe(f(name.toLowerCase()));
          },
        ),
      );
    });

    it('agrees with a direct "ends with .ext, ignoring case" check', () => {
      fc.assert(
        fc.property(
          fc.stringMatching(/^[a-zA-Z.]{0,10}$/),
          fc.array(fc.stringMatching(/^[a-z]{1,3}(\.[a-z]{1,2})?$/), { minLength: 1, maxLength: 4 }),
          (name, exts) => {
            const f = compileExtensionFilter(exts)!;
            const expected = exts.some((e) => name.toLowerCase().endsWith('.' + e));
            expect(f(name)).toBe(expected);
          },
        ),
      );
    });

    it('several extensions match exactly when one of them alone does', () => {
      fc.assert(
        fc.property(
          fc.stringMatching(/^[a-zA-Z.]{0,10}$/),
          fc.array(fc.stringMatching(/^[a-z]{1,3}$/), { minLength: 2, maxLength: 4 }),
          (name, exts) => {
            const several = compileExtensionFilter(exts)!;
            expect(several(name)).toBe(exts.some((e) => compileExtensionFilter([e])!(name)));
          },
        ),
      );
    });
  });
});
