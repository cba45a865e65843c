import { invalidArgument, type FileEntry } from '@filer/core';

export const SORT_KEYS = ['path', 'size', 'mtime'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export function parseSortKey(text: string, field = 'sort'): SortKey {
  if ((SORT_KEYS as readonly string[]).includes(text)) return text as SortKey;
  throw invalidArgument(field, text, `invalid sort key '${text}': expected one of ${SORT_KEYS.join(', ')}`);
}

/** Whether sorting by this key needs a stat of every match. */
export function sortNeedsStat(key: SortKey | undefined): boolean {
  return key === 'size' || key === 'mtime';
}

/** Byte-order path comparison, so output is stable across locales (like `LC_ALL=C sort`). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts in place: path ascending; size and mtime descending (largest / newest first), ties by path. */
export function sortEntries(entries: FileEntry[], key: SortKey): FileEntry[] {
  if (key === 'path') return entries.sort((a, b) => comparePaths(a.path, b.path));
  const pick = key === 'size' ? (e: FileEntry) => e.size ?? 0 : (e: FileEntry) => e.mtimeMs ?? 0;
  return entries.sort((a, b) => pick(b) - pick(a) || comparePaths(a.path, b.path));
}
