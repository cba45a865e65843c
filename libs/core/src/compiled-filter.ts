import type { EntryKind } from './file-entry.js';
import type { FilterSpec } from './filter-spec.js';
import { compileExtensionFilter } from './filter/extension.js';
import { compileSizeFilter } from './filter/size-range.js';
import { compileTimeFilter } from './filter/time-range.js';
import { compileNameGlobFilter } from './filter/name-glob.js';
import { compileNameRegexFilter } from './filter/name-regex.js';
import { compileExcludeFilter } from './filter/exclude.js';

/** A FilterSpec turned into the predicates the walker's hot loop calls, cheapest first. */
export interface CompiledFilter {
  readonly spec: FilterSpec;
  /** Entry kinds that can match; the walk still descends every directory. */
  readonly type: FilterSpec['type'];
  /** Name-only tests (extension, globs, regex): undefined when there are none. */
  readonly matchesName?: (name: string) => boolean;
  /** Excluded entries are neither reported nor descended. */
  readonly isExcluded?: (name: string, relPath: string) => boolean;
  /** Size and time tests; when present the walk must stat candidates. */
  readonly matchesStat?: (size: number, mtimeMs: number) => boolean;
  readonly needsStat: boolean;
  /** Size bounds apply to files only: with one set, directories and symlinks never match. */
  readonly sizeFilesOnly: boolean;
}

function all<A extends unknown[]>(tests: (((...a: A) => boolean) | undefined)[]): ((...a: A) => boolean) | undefined {
  const present = tests.filter((t): t is (...a: A) => boolean => t !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return (...a) => present.every((t) => t(...a));
}

/** Builds the predicates for a spec. Size filters keep only files (directories have no useful size). */
export function compileFilter(spec: FilterSpec): CompiledFilter {
  const sizeOk = compileSizeFilter(spec.minSize, spec.maxSize);
  const timeOk = compileTimeFilter(spec.newerThanMs, spec.olderThanMs);
  const matchesStat =
    sizeOk && timeOk
      ? (size: number, mtime: number) => sizeOk(size) && timeOk(mtime)
      : sizeOk
        ? (size: number) => sizeOk(size)
        : timeOk
          ? (_size: number, mtime: number) => timeOk(mtime)
          : undefined;
  return {
    spec,
    type: spec.type,
    matchesName: all<[string]>([
      compileExtensionFilter(spec.extensions),
      compileNameGlobFilter(spec.names),
      compileNameRegexFilter(spec.regex),
    ]),
    isExcluded: compileExcludeFilter(spec.excludes),
    matchesStat,
    needsStat: matchesStat !== undefined,
    sizeFilesOnly: sizeOk !== undefined,
  };
}

/** Whether an entry's kind can be reported under the spec's `--type`. */
export function typeAccepts(filter: CompiledFilter, kind: EntryKind): boolean {
  return filter.type === kind;
}
