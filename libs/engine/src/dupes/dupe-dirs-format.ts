import { formatSize } from '@filer/core';
import { csvField } from '../output/find-format.js';
import { groupThousands } from './dupes-format.js';
import type { DupeDirsReport, DuplicatedDir, EqualDirGroup } from './dupe-dirs.js';

// `filer dupes --dirs` in each of the dupes formats: equal directories first, then directories
// whose files all have copies elsewhere, each list largest first.

/** NDJSON: `{"kind":"equal","bytes","files","dirs"}` per set, `{"kind":"duplicated","bytes","files","dir"}` per directory. */
export function equalDirsToJson(g: EqualDirGroup): string {
  return JSON.stringify({ kind: 'equal', bytes: g.bytes, files: g.files, dirs: g.dirs });
}

export function duplicatedDirToJson(d: DuplicatedDir): string {
  return JSON.stringify({ kind: 'duplicated', bytes: d.bytes, files: d.files, dir: d.dir });
}

export function dupeDirsToNdjson(r: DupeDirsReport): string {
  return [...r.equal.map(equalDirsToJson), ...r.duplicated.map(duplicatedDirToJson)].map((l) => l + '\n').join('');
}

/** JSON: one document, `{"equal":[…],"duplicated":[…]}`. */
export function dupeDirsToJsonDocument(r: DupeDirsReport): string {
  return `{"equal":[${r.equal.map(equalDirsToJson).join(',')}],"duplicated":[${r.duplicated.map(duplicatedDirToJson).join(',')}]}\n`;
}

export const DUPE_DIRS_CSV_HEADER = 'kind,set,bytes,files,dir\n';

/** CSV rows of the equal set numbered `set` (from 1). */
export function equalDirsToCsv(g: EqualDirGroup, set: number): string {
  return g.dirs.map((d) => `equal,${set},${g.bytes},${g.files},${csvField(d)}\n`).join('');
}

export function duplicatedDirToCsv(d: DuplicatedDir): string {
  return `duplicated,,${d.bytes},${d.files},${csvField(d.dir)}\n`;
}

/** CSV: one row per directory; the directories of one equal set share its number. */
export function dupeDirsToCsv(r: DupeDirsReport): string {
  return DUPE_DIRS_CSV_HEADER + r.equal.map((g, i) => equalDirsToCsv(g, i + 1)).join('') + r.duplicated.map(duplicatedDirToCsv).join('');
}

/** Text of one equal set: a header line, a line per directory, a blank line. */
export function equalDirsToText(g: EqualDirGroup): string {
  return (
    `${g.dirs.length} equal directories × ${formatSize(g.bytes)} (${groupThousands(g.files)} files)\n` +
    g.dirs.map((d) => `  ${d}\n`).join('') +
    '\n'
  );
}

/** The text heading of the all-duplicated directories, printed before the first. */
export const DUPLICATED_DIRS_TEXT_HEADING = 'every file duplicated elsewhere:\n';

export function duplicatedDirToText(d: DuplicatedDir): string {
  return `  ${formatSize(d.bytes)} (${groupThousands(d.files)} files)  ${d.dir}\n`;
}

/** The text summary line (after a blank line that ends the all-duplicated list, when there is one). */
export function dupeDirsSummaryText(equal: number, duplicated: number): string {
  return (
    (duplicated > 0 ? '\n' : '') +
    `${groupThousands(equal)} sets of equal directories, ${groupThousands(duplicated)} directories with every file duplicated elsewhere\n`
  );
}

/** Text: a block per equal set, a line per all-duplicated directory, then a summary line. */
export function dupeDirsToText(r: DupeDirsReport): string {
  return (
    r.equal.map(equalDirsToText).join('') +
    (r.duplicated.length > 0 ? DUPLICATED_DIRS_TEXT_HEADING + r.duplicated.map(duplicatedDirToText).join('') : '') +
    dupeDirsSummaryText(r.equal.length, r.duplicated.length)
  );
}
