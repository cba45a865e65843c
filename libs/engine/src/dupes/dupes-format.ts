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

const fmt = (n: number): string => n.toLocaleString('en-US');

/** A readable group: a header line with sizes, then its paths indented. */
export function dupeGroupToText(g: DupeGroup): string {
  return (
    `${g.paths.length} copies × ${formatSize(g.size)} — ${formatSize(g.wasted)} wasted\n` + g.paths.map((p) => `  ${p}\n`).join('') + '\n'
  );
}

/** The summary closing a text report. */
export function dupesSummaryText(s: DupeStats, algorithm: string): string {
  return (
    `${fmt(s.groups)} groups, ${fmt(s.duplicateFiles)} duplicate files, ${formatSize(s.wastedBytes)} wasted (${fmt(s.wastedBytes)} bytes)\n` +
    `scanned ${fmt(s.files)} files (${fmt(s.hardLinks)} extra hard links and ${fmt(s.emptySkipped)} empty files skipped); ` +
    `${fmt(s.candidates)} shared a size; hashed ${fmt(s.sampled)} samples and ${fmt(s.fullyHashed)} whole files with ${algorithm}; ` +
    `${fmt(s.cacheHits)} cache hits; read ${fmt(s.bytesRead)} bytes; ${fmt(s.errors)} errors\n`
  );
}
