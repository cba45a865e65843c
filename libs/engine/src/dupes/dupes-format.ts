import { formatSize, invalidArgument } from '@filer/core';
import { csvField } from '../output/find-format.js';
import type { DupeGroup, DupeStats } from './dupe-types.js';

export const DUPES_FORMATS = ['text', 'ndjson', 'csv', 'json'] as const;
export type DupesFormat = (typeof DUPES_FORMATS)[number];

export function parseDupesFormat(text: string, field = 'format'): DupesFormat {
  if ((DUPES_FORMATS as readonly string[]).includes(text)) return text as DupesFormat;
  throw invalidArgument(field, text, `invalid format '${text}': expected one of ${DUPES_FORMATS.join(', ')}`);
}

/** One group as NDJSON: `{"size","hash","wasted","paths"}`. */
export function dupeGroupToJson(g: DupeGroup): string {
  return JSON.stringify({ size: g.size, hash: g.hash, wasted: g.wasted, paths: g.paths });
}

export const DUPES_CSV_HEADER = 'group,size,hash,wasted,path\n';

/** CSV: one row per file, with its group number (1 = most wasted bytes). */
export function dupeGroupToCsv(g: DupeGroup, index: number): string {
  return g.paths.map((p) => `${index + 1},${g.size},${g.hash},${g.wasted},${csvField(p)}\n`).join('');
}

/**
 * An integer with commas between thousands, as en-US prints it. Written out because the first
 * toLocaleString of a process loads ICU's number formatting: about 10 ms of every run.
 */
export const groupThousands = (n: number): string =>
  Number.isSafeInteger(n) ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : n.toLocaleString('en-US');

/** A readable group: a header line with sizes, then its paths indented. */
export function dupeGroupToText(g: DupeGroup): string {
  return (
    `${g.paths.length} copies × ${formatSize(g.size)} — ${formatSize(g.wasted)} wasted\n` + g.paths.map((p) => `  ${p}\n`).join('') + '\n'
  );
}

/** The summary closing a text report. */
export function dupesSummaryText(s: DupeStats, algorithm: string): string {
  return (
    `${groupThousands(s.groups)} groups, ${groupThousands(s.duplicateFiles)} duplicate files, ${formatSize(s.wastedBytes)} wasted (${groupThousands(s.wastedBytes)} bytes)\n` +
    `scanned ${groupThousands(s.files)} files (${groupThousands(s.hardLinks)} extra hard links and ${groupThousands(s.emptySkipped)} empty files skipped); ` +
    `${groupThousands(s.candidates)} shared a size; hashed ${groupThousands(s.sampled)} samples and ${groupThousands(s.fullyHashed)} whole files with ${algorithm}; ` +
    `${groupThousands(s.cacheHits)} cache hits; read ${groupThousands(s.bytesRead)} bytes; ${groupThousands(s.errors)} errors\n`
  );
}
