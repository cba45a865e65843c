import { invalidArgument, type FileEntry } from '@filer/core';
import { isoFromMs } from './iso-time.js';

export const FIND_FORMATS = ['paths', 'ndjson', 'csv', 'json'] as const;
export type FindFormat = (typeof FIND_FORMATS)[number];

export function parseFindFormat(text: string, field = 'format'): FindFormat {
  if ((FIND_FORMATS as readonly string[]).includes(text)) return text as FindFormat;
  throw invalidArgument(field, text, `invalid format '${text}': expected one of ${FIND_FORMATS.join(', ')}`);
}

/** Whether a format prints size and mtime, so every match must be stat'ed. */
export function formatNeedsStat(format: FindFormat): boolean {
  return format !== 'paths';
}

const KIND_TO_TYPE = { file: 'file', dir: 'dir', symlink: 'symlink', other: 'other' } as const;

function isoOrNull(mtimeMs: number | undefined): string | null {
  return mtimeMs === undefined ? null : isoFromMs(mtimeMs);
}

/**
 * One NDJSON object (no newline): `{"path","type","size","mtime"}`. libs/fs-scan/src/list_records.c
 * makes the same bytes for regular files natively (and csv's and paths' below): change both together.
 */
export function entryToJson(e: FileEntry): string {
  return (
    '{"path":' +
    JSON.stringify(e.path) +
    ',"type":"' +
    KIND_TO_TYPE[e.kind] +
    '","size":' +
    (e.size ?? null) +
    ',"mtime":' +
    (e.mtimeMs === undefined ? 'null' : '"' + isoOrNull(e.mtimeMs) + '"') +
    '}'
  );
}

/** RFC 4180 quoting: only when needed. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
}

export const CSV_HEADER = 'path,type,size,mtime\n';

export function entryToCsvRow(e: FileEntry): string {
  return csvField(e.path) + ',' + e.kind + ',' + (e.size ?? '') + ',' + (isoOrNull(e.mtimeMs) ?? '') + '\n';
}

/**
 * Turns one entry into its record text, terminator included. `json` records are NDJSON lines
 * here; the single writer wraps them into an array (see JsonArrayWriter).
 */
export function formatRecord(e: FileEntry, format: FindFormat, nul: boolean): string {
  switch (format) {
    case 'paths':
      return e.path + (nul ? '\0' : '\n');
    case 'ndjson':
    case 'json':
      return entryToJson(e) + '\n';
    case 'csv':
      return entryToCsvRow(e);
  }
}
