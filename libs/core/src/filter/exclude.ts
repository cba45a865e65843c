import { GLOB_OPTIONS, loadPicomatch } from './name-glob.js';

/**
 * `--exclude GLOB`: a glob without `/` matches an entry's base name at any depth (like a
 * .gitignore line); one with `/` matches the path relative to the root. An excluded directory
 * is not descended.
 */
export function compileExcludeFilter(globs: readonly string[]): ((name: string, relPath: string) => boolean) | undefined {
  if (globs.length === 0) return undefined;
  const picomatch = loadPicomatch();
  // A trailing slash (`build/`) only says "directory", as in .gitignore: it does not anchor the glob.
  const trimmed = globs.map((g) => g.replace(/\/+$/, ''));
  const byName = trimmed.filter((g) => !g.includes('/')).map((g) => picomatch(g, GLOB_OPTIONS));
  const byPath = trimmed.filter((g) => g.includes('/')).map((g) => picomatch(g.replace(/^\/+/, ''), GLOB_OPTIONS));
  return (name, relPath) => byName.some((m) => m(name)) || byPath.some((m) => m(relPath));
}
