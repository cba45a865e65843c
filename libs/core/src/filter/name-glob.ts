import type picomatchFn from 'picomatch';
import { lazyRequire } from '../lazy-require.js';

/** picomatch, loaded only when a glob is given. */
export const loadPicomatch = lazyRequire<typeof picomatchFn>('picomatch');

/** Glob options shared by every glob filter: `*` matches a leading dot too, as in find -name. */
export const GLOB_OPTIONS = { dot: true } as const;

/** Matches the base name against any of the globs (`--name` is repeatable; any one may match). */
export function compileNameGlobFilter(globs: readonly string[]): ((name: string) => boolean) | undefined {
  if (globs.length === 0) return undefined;
  const matchers = globs.map((g) => loadPicomatch()(g, GLOB_OPTIONS));
  if (matchers.length === 1) return matchers[0];
  return (name) => matchers.some((m) => m(name));
}
