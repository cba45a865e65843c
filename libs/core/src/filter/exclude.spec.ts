import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileExcludeFilter } from './exclude.js';

/** Path segments made of characters that are never glob syntax. */
const segmentArb = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,7}$/);
const dirsArb = fc.array(segmentArb, { maxLength: 4 });
/** The (name, relPath) pair the walker passes: relPath is root-relative, '/'-separated, ending in name. */
const entryArb = fc.tuple(dirsArb, segmentArb).map(([dirs, name]) => ({ name, relPath: [...dirs, name].join('/') }));

/** Calls the filter as the walker does, deriving the base name from the relative path. */
function excluded(globs: string[], relPath: string): boolean {
  const f = compileExcludeFilter(globs)!;
  return f(relPath.slice(relPath.lastIndexOf('/') + 1), relPath);
}

describe('compileExcludeFilter', () => {
  it('is undefined without globs', () => {
    expect(compileExcludeFilter([])).toBeUndefined();
  });

  describe('a glob without "/" matches the base name at any depth', () => {
    it('matches a plain name anywhere in the tree', () => {
      for (const rel of ['node_modules', 'a/node_modules', 'a/b/c/node_modules']) {
        expect(excluded(['node_modules'], rel)).toBe(true);
      }
      expect(excluded(['node_modules'], 'node_modules_old')).toBe(false);
      expect(excluded(['node_modules'], 'my_node_modules')).toBe(false);
    });

    it('looks at the base name only, never at parent directories', () => {
      // Children of an excluded directory are never visited; the filter itself only judges the entry.
      expect(excluded(['node_modules'], 'node_modules/pkg/index.js')).toBe(false);
      expect(excluded(['src'], 'src/main.ts')).toBe(false);
    });

    it('matches wildcards against the base name, including dotfiles', () => {
      expect(excluded(['*.log'], 'debug.log')).toBe(true);
      expect(excluded(['*.log'], 'var/log/app/debug.log')).toBe(true);
      expect(excluded(['*.log'], 'var/log/.hidden.log')).toBe(true);
      expect(excluded(['*.log'], 'debug.log.1')).toBe(false);
      expect(excluded(['*.log'], 'logs')).toBe(false);
      expect(excluded(['.git'], 'sub/.git')).toBe(true);
      expect(excluded(['.*'], 'a/.cache')).toBe(true);
      expect(excluded(['.*'], 'a/cache')).toBe(false);
    });

    it('does not let * reach across directories in the path', () => {
      expect(excluded(['a*'], 'a/b')).toBe(false);
      expect(excluded(['a*'], 'x/abc')).toBe(true);
    });

    it('is case-sensitive', () => {
      expect(excluded(['*.LOG'], 'debug.log')).toBe(false);
      expect(excluded(['Build'], 'build')).toBe(false);
    });
  });

  describe('a glob with "/" matches the path relative to the root', () => {
    it('matches the full relative path', () => {
      expect(excluded(['src/*.ts'], 'src/a.ts')).toBe(true);
      expect(excluded(['src/*.ts'], 'src/x/a.ts')).toBe(false);
      expect(excluded(['src/*.ts'], 'lib/src/a.ts')).toBe(false);
      expect(excluded(['src/*.ts'], 'a.ts')).toBe(false);
      expect(excluded(['docs/build'], 'docs/build')).toBe(true);
      expect(excluded(['docs/build'], 'x/docs/build')).toBe(false);
    });

    it('anchors a leading "/" at the root', () => {
      expect(excluded(['/dist'], 'dist')).toBe(true);
      expect(excluded(['/dist'], 'pkg/dist')).toBe(false);
      expect(excluded(['//dist'], 'dist')).toBe(true);
    });

    it('treats a trailing "/" as .gitignore does: `build/` matches a base name at any depth', () => {
      expect(excluded(['build/'], 'build')).toBe(true);
      expect(excluded(['build/'], 'x/build')).toBe(true);
      expect(excluded(['a/b/'], 'a/b')).toBe(true);
      expect(excluded(['a/b/'], 'x/a/b')).toBe(false);
    });

    it('supports ** across directories', () => {
      expect(excluded(['**/tmp/*.o'], 'tmp/x.o')).toBe(true);
      expect(excluded(['**/tmp/*.o'], 'a/b/tmp/x.o')).toBe(true);
      expect(excluded(['**/tmp/*.o'], 'x.o')).toBe(false);
      expect(excluded(['vendor/**'], 'vendor/a/b/c.go')).toBe(true);
      expect(excluded(['vendor/**'], 'other/vendor/a.go')).toBe(false);
    });

    it('ignores the base name argument', () => {
      const f = compileExcludeFilter(['a/b'])!;
      expect(f('unrelated', 'a/b')).toBe(true);
      expect(f('b', 'x/b')).toBe(false);
    });
  });

  it('excludes an entry if any glob, of either kind, matches', () => {
    const globs = ['*.tmp', 'build/', '/out', 'docs/*.pdf'];
    expect(excluded(globs, 'a/b/c.tmp')).toBe(true);
    expect(excluded(globs, 'build')).toBe(true);
    expect(excluded(globs, 'out')).toBe(true);
    expect(excluded(globs, 'docs/manual.pdf')).toBe(true);
    expect(excluded(globs, 'src/main.ts')).toBe(false);
    expect(excluded(globs, 'src/out')).toBe(false);
    expect(excluded(globs, 'docs/sub/manual.pdf')).toBe(false);
  });

  describe('properties', () => {
    it('a literal name glob excludes exactly the entries with that base name, at any depth', () => {
      fc.assert(
        fc.property(segmentArb, entryArb, (glob, { name, relPath }) => {
          expect(compileExcludeFilter([glob])!(name, relPath)).toBe(name === glob);
        }),
      );
    });

    it('a name glob’s answer depends on the name only, never on the directory', () => {
      const nameGlobArb = fc.oneof(
        segmentArb,
        segmentArb.map((s) => `${s}*`),
        segmentArb.map((s) => `*${s}`),
        fc.constant('*.log'),
      );
      fc.assert(
        fc.property(nameGlobArb, segmentArb, dirsArb, dirsArb, (glob, name, dirsA, dirsB) => {
          const f = compileExcludeFilter([glob])!;
          expect(f(name, [...dirsA, name].join('/'))).toBe(f(name, [...dirsB, name].join('/')));
        }),
      );
    });

    it('a literal path glob excludes exactly that path, with or without leading and trailing slashes', () => {
      fc.assert(
        fc.property(
          fc.array(segmentArb, { minLength: 2, maxLength: 4 }),
          entryArb,
          fc.constantFrom('', '/'),
          fc.constantFrom('', '/'),
          (segments, entry, lead, trail) => {
            const path = segments.join('/');
            const f = compileExcludeFilter([lead + path + trail])!;
            expect(f(entry.name, entry.relPath)).toBe(entry.relPath === path);
            expect(f(segments[segments.length - 1], path)).toBe(true);
          },
        ),
      );
    });

    it('several globs exclude exactly what one of them alone excludes', () => {
      const globArb = fc.oneof(
        segmentArb,
        segmentArb.map((s) => `*${s}`),
        fc.array(segmentArb, { minLength: 1, maxLength: 3 }).map((s) => s.join('/') + '/*'),
      );
      fc.assert(
        fc.property(fc.array(globArb, { minLength: 2, maxLength: 4 }), entryArb, (globs, { name, relPath }) => {
          const several = compileExcludeFilter(globs)!;
          expect(several(name, relPath)).toBe(globs.some((g) => compileExcludeFilter([g])!(name, relPath)));
        }),
      );
    });
  });
});
