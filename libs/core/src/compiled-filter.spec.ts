import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileFilter, typeAccepts } from './compiled-filter.js';
import { parseFilterSpec, type FilterSpec } from './filter-spec.js';
import type { EntryKind } from './file-entry.js';
import type { TypeFilter } from './filter/entry-type.js';
import { FilerError } from './errors.js';

const NOW = Date.UTC(2024, 5, 15, 12);
const DAY = 86_400_000;

function spec(overrides: Partial<FilterSpec> = {}): FilterSpec {
  return {
    extensions: [],
    names: [],
    excludes: [],
    type: 'file',
    hidden: false,
    ignoreFiles: true,
    follow: false,
    ...overrides,
  };
}

describe('compileFilter', () => {
  it('compiles an empty spec to no tests at all', () => {
    const s = spec();
    const f = compileFilter(s);
    expect(f.spec).toBe(s);
    expect(f.type).toBe('file');
    expect(f.matchesName).toBeUndefined();
    expect(f.isExcluded).toBeUndefined();
    expect(f.matchesStat).toBeUndefined();
    expect(f.needsStat).toBe(false);
    expect(f.sizeFilesOnly).toBe(false);
  });

  it('compiles the defaults of parseFilterSpec({}) to no tests', () => {
    const f = compileFilter(parseFilterSpec({}, NOW));
    expect(f.matchesName).toBeUndefined();
    expect(f.isExcluded).toBeUndefined();
    expect(f.matchesStat).toBeUndefined();
    expect(f.needsStat).toBe(false);
  });

  it('carries the entry type', () => {
    for (const type of ['file', 'dir', 'symlink'] as const) {
      expect(compileFilter(spec({ type })).type).toBe(type);
    }
  });

  describe('matchesName', () => {
    it('tests extensions alone', () => {
      const f = compileFilter(spec({ extensions: ['ts', 'md'] })).matchesName!;
      expect(f('a.ts')).toBe(true);
      expect(f('README.MD')).toBe(true);
      expect(f('a.rs')).toBe(false);
    });

    it('tests globs alone (any glob may match)', () => {
      const f = compileFilter(spec({ names: ['*.rs', 'Makefile'] })).matchesName!;
      expect(f('main.rs')).toBe(true);
      expect(f('Makefile')).toBe(true);
      expect(f('main.ts')).toBe(false);
    });

    it('tests the regex alone, searching anywhere in the name', () => {
      const f = compileFilter(spec({ regex: 'test' })).matchesName!;
      expect(f('my_test.rs')).toBe(true);
      expect(f('main.rs')).toBe(false);
    });

    it('requires every kind of name test to pass when several are given', () => {
      const f = compileFilter(spec({ extensions: ['ts'], names: ['*.spec.*'], regex: '^core' })).matchesName!;
      expect(f('core.spec.ts')).toBe(true);
      expect(f('core.spec.js')).toBe(false); // wrong extension
      expect(f('core.test.ts')).toBe(false); // glob fails
      expect(f('app.spec.ts')).toBe(false); // regex fails
    });

    it('an empty regex still counts as a (match-all) name test', () => {
      const f = compileFilter(spec({ regex: '' }));
      expect(f.matchesName).toBeDefined();
      expect(f.matchesName!('anything')).toBe(true);
    });

    it('rejects a bad regex with E_INVALID_ARGUMENT', () => {
      expect(() => compileFilter(spec({ regex: '(a)\\1' }))).toThrow(FilerError);
    });

    it('property: equals the conjunction of extension, glob and regex checks', () => {
      const nameArb = fc.stringMatching(/^[abc]{0,3}(\.[abc]{1,2}){0,2}$/);
      fc.assert(
        fc.property(
          fc.array(fc.constantFrom('a', 'b', 'c', 'a.b'), { maxLength: 2 }),
          fc.array(fc.constantFrom('*.a', 'a*', '*b*', '?.?', 'c'), { maxLength: 2 }),
          fc.option(fc.constantFrom('^a', 'b', 'c$', '\\.'), { nil: undefined }),
          nameArb,
          (extensions, names, regex, name) => {
            const f = compileFilter(spec({ extensions, names, regex }));
            if (extensions.length === 0 && names.length === 0 && regex === undefined) {
              expect(f.matchesName).toBeUndefined();
              return;
            }
            const extOk = extensions.length === 0 || extensions.some((e) => name.toLowerCase().endsWith('.' + e));
            const globOk = names.length === 0 || names.some((g) => globMatches(g, name));
            const regexOk = regex === undefined || new RegExp(regex).test(name);
            expect(f.matchesName!(name)).toBe(extOk && globOk && regexOk);
          },
        ),
      );
    });
  });

  describe('isExcluded', () => {
    it('applies name globs at any depth and path globs from the root', () => {
      const f = compileFilter(spec({ excludes: ['node_modules', '/dist', 'docs/*.pdf'] })).isExcluded!;
      expect(f('node_modules', 'a/b/node_modules')).toBe(true);
      expect(f('dist', 'dist')).toBe(true);
      expect(f('dist', 'pkg/dist')).toBe(false);
      expect(f('x.pdf', 'docs/x.pdf')).toBe(true);
      expect(f('src', 'src')).toBe(false);
    });

    it('is independent of the name tests', () => {
      const f = compileFilter(spec({ excludes: ['*.log'] }));
      expect(f.matchesName).toBeUndefined();
      expect(f.isExcluded!('a.log', 'a.log')).toBe(true);
    });
  });

  describe('matchesStat', () => {
    it('with size bounds only: tests the size (inclusive), ignores mtime, and keeps files only', () => {
      const f = compileFilter(spec({ minSize: 10, maxSize: 20 }));
      expect(f.needsStat).toBe(true);
      expect(f.sizeFilesOnly).toBe(true);
      expect([9, 10, 20, 21].map((size) => f.matchesStat!(size, 0))).toEqual([false, true, true, false]);
      expect(f.matchesStat!(15, Number.NaN)).toBe(true);
    });

    it('a zero bound is still a bound', () => {
      const f = compileFilter(spec({ maxSize: 0 }));
      expect(f.needsStat).toBe(true);
      expect(f.sizeFilesOnly).toBe(true);
      expect(f.matchesStat!(0, 0)).toBe(true);
      expect(f.matchesStat!(1, 0)).toBe(false);
      expect(compileFilter(spec({ minSize: 0 })).sizeFilesOnly).toBe(true);
    });

    it('with time bounds only: tests mtime (strict), ignores size, and does not restrict to files', () => {
      const f = compileFilter(spec({ newerThanMs: NOW - DAY, olderThanMs: NOW }));
      expect(f.needsStat).toBe(true);
      expect(f.sizeFilesOnly).toBe(false);
      expect(f.matchesStat!(0, NOW - DAY)).toBe(false);
      expect(f.matchesStat!(0, NOW - DAY + 1)).toBe(true);
      expect(f.matchesStat!(Number.MAX_SAFE_INTEGER, NOW - 1)).toBe(true);
      expect(f.matchesStat!(0, NOW)).toBe(false);
    });

    it('with both: both must pass', () => {
      const f = compileFilter(spec({ minSize: 100, newerThanMs: NOW }));
      expect(f.needsStat).toBe(true);
      expect(f.sizeFilesOnly).toBe(true);
      expect(f.matchesStat!(100, NOW + 1)).toBe(true);
      expect(f.matchesStat!(99, NOW + 1)).toBe(false);
      expect(f.matchesStat!(100, NOW)).toBe(false);
      expect(f.matchesStat!(99, NOW)).toBe(false);
    });

    it('needs no stat for name-only, exclude-only or type-only specs', () => {
      for (const s of [
        spec({ extensions: ['ts'] }),
        spec({ names: ['*'] }),
        spec({ regex: 'a' }),
        spec({ excludes: ['x'] }),
        spec({ type: 'dir' }),
      ]) {
        const f = compileFilter(s);
        expect(f.needsStat).toBe(false);
        expect(f.matchesStat).toBeUndefined();
        expect(f.sizeFilesOnly).toBe(false);
      }
    });

    it('property: equals direct comparisons for random bounds', () => {
      const sizeArb = fc.integer({ min: 0, max: 1e12 });
      const timeArb = fc.integer({ min: 0, max: 4_102_444_800_000 });
      fc.assert(
        fc.property(
          fc.option(sizeArb, { nil: undefined }),
          fc.option(sizeArb, { nil: undefined }),
          fc.option(timeArb, { nil: undefined }),
          fc.option(timeArb, { nil: undefined }),
          sizeArb,
          timeArb,
          (minSize, maxSize, newerThanMs, olderThanMs, size, mtime) => {
            const f = compileFilter(spec({ minSize, maxSize, newerThanMs, olderThanMs }));
            const hasSize = minSize !== undefined || maxSize !== undefined;
            const hasTime = newerThanMs !== undefined || olderThanMs !== undefined;
            expect(f.needsStat).toBe(hasSize || hasTime);
            expect(f.sizeFilesOnly).toBe(hasSize);
            if (!hasSize && !hasTime) {
              expect(f.matchesStat).toBeUndefined();
              return;
            }
            const expected =
              (minSize === undefined || size >= minSize) &&
              (maxSize === undefined || size <= maxSize) &&
              (newerThanMs === undefined || mtime > newerThanMs) &&
              (olderThanMs === undefined || mtime < olderThanMs);
            expect(f.matchesStat!(size, mtime)).toBe(expected);
          },
        ),
      );
    });
  });

  it('works end to end from user input', () => {
    const f = compileFilter(parseFilterSpec({ ext: 'log', minSize: '1k', newer: '7d', exclude: ['old'] }, NOW));
    expect(f.matchesName!('app.LOG')).toBe(true);
    expect(f.matchesName!('app.txt')).toBe(false);
    expect(f.isExcluded!('old', 'var/old')).toBe(true);
    expect(f.matchesStat!(1000, NOW - DAY)).toBe(true);
    expect(f.matchesStat!(999, NOW - DAY)).toBe(false);
    expect(f.matchesStat!(1000, NOW - 8 * DAY)).toBe(false);
    expect(f.sizeFilesOnly).toBe(true);
  });
});

describe('typeAccepts', () => {
  const types: TypeFilter[] = ['file', 'dir', 'symlink'];
  const kinds: EntryKind[] = ['file', 'dir', 'symlink', 'other'];

  it.each(types.flatMap((t) => kinds.map((k) => [t, k] as const)))('--type %s accepts %s only if they are the same kind', (type, kind) => {
    expect(typeAccepts(compileFilter(spec({ type })), kind)).toBe((type as string) === kind);
  });
});

/** A tiny reference glob matcher for the patterns used above (* and ? only; * may match a leading dot). */
function globMatches(glob: string, name: string): boolean {
  const re = new RegExp('^' + glob.replace(/[.]/g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(name);
}
