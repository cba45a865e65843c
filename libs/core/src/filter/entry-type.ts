import type { EntryKind } from '../file-entry.js';
import { invalidArgument } from '../errors.js';

export type TypeFilter = 'file' | 'dir' | 'symlink';

const ALIASES: ReadonlyMap<string, TypeFilter> = new Map(
  Object.entries({
    f: 'file',
    file: 'file',
    d: 'dir',
    dir: 'dir',
    directory: 'dir',
    l: 'symlink',
    symlink: 'symlink',
  } satisfies Record<string, TypeFilter>),
);

/** Parses `--type f|d|l` (long names accepted too). */
export function parseTypeFilter(text: string, field = 'type'): TypeFilter {
  const t = ALIASES.get(text.trim().toLowerCase());
  if (!t) throw invalidArgument(field, text, `invalid type '${text}': expected f (file), d (directory) or l (symlink)`);
  return t;
}

export function kindMatches(type: TypeFilter, kind: EntryKind): boolean {
  return type === kind;
}
