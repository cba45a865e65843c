import type { CompiledFilter } from '@filer/core';
import type { FindFormat } from '../output/find-format.js';
import { IGNORE_FILE_NAMES } from './ignore-rules.js';
import type { RecordFormat, RecordQuery } from './record-listing.js';

/**
 * The lister's format for a find output format (json's records are ndjson lines the writer wraps);
 * `statAll` false: ndjson records of entries not stat'ed, as entryToJson writes them.
 */
export function recordFormatOf(format: FindFormat, nul: boolean, statAll = true): RecordFormat {
  if (format === 'paths') return nul ? 'paths0' : 'paths';
  if (format === 'csv') return 'csv';
  return statAll ? 'ndjson' : 'ndjson-nostat';
}

/** An extension a native lister can test byte for byte: ASCII, no NUL (the join character). */
function plainExt(ext: string): boolean {
  for (let i = 0; i < ext.length; i++) {
    const c = ext.charCodeAt(i);
    if (c === 0 || c > 127) return false;
  }
  return ext !== '';
}

/**
 * The query that lets a source list a directory's matches itself, or undefined when the filter
 * holds a test only the walk can make: names by glob or regex, excludes, --follow (symlinks need
 * a stat and loop checks), a type other than file, or a non-ASCII extension (Unicode case
 * folding). Ignore files are the lister's to notice: a directory holding one takes the general path.
 */
export function recordQuery(filter: CompiledFilter, format: RecordFormat, identity: boolean): RecordQuery | undefined {
  const spec = filter.spec;
  if (filter.type !== 'file' || identity || spec.follow) return undefined;
  if (spec.names.length > 0 || spec.regex !== undefined || filter.isExcluded !== undefined) return undefined;
  if (!spec.extensions.every(plainExt)) return undefined;
  return {
    format,
    extensions: spec.extensions,
    minSize: spec.minSize,
    maxSize: spec.maxSize,
    newerThanMs: spec.newerThanMs,
    olderThanMs: spec.olderThanMs,
    ignoreNames: spec.ignoreFiles ? IGNORE_FILE_NAMES : [],
  };
}
