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

/** CSV: one row per directory; the directories of one equal set share its number. */
export function dupeDirsToCsv(r: DupeDirsReport): string {
  const rows = [DUPE_DIRS_CSV_HEADER];
  r.equal.forEach((g, i) => {
    for (const d of g.dirs) rows.push(`equal,${i + 1},${g.bytes},${g.files},${csvField(d)}\n`);
  });
  for (const d of r.duplicated) rows.push(`duplicated,,${d.bytes},${d.files},${csvField(d.dir)}\n`);
  return rows.join('');
}

/** Text: a block per equal set, a line per all-duplicated directory, then a summary line. */
export function dupeDirsToText(r: DupeDirsReport): string {
  const out: string[] = [];
  for (const g of r.equal)
    out.push(
      `${g.dirs.length} equal directories × ${formatSize(g.bytes)} (${groupThousands(g.files)} files)\n` +
        g.dirs.map((d) => `  ${d}\n`).join('') +
        '\n',
    );
  if (r.duplicated.length > 0) {
    out.push('every file duplicated elsewhere:\n');
    for (const d of r.duplicated) out.push(`  ${formatSize(d.bytes)} (${groupThousands(d.files)} files)  ${d.dir}\n`);
    out.push('\n');
  }
  out.push(
    `${groupThousands(r.equal.length)} sets of equal directories, ${groupThousands(r.duplicated.length)} directories with every file duplicated elsewhere\n`,
  );
  return out.join('');
}
