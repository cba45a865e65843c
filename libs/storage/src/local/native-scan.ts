import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import type { DirListing, EntryKind, EntryStat, SourceFailure } from '@filer/core';
import type addon from '@filer/fs-scan';
import type { RecordFormat, RecordListing, RecordQuery } from '@filer/engine';

/** The native addon's functions, as its package declares them (libs/fs-scan/index.d.ts). */
export type NativeScan = NonNullable<typeof addon>;

const require = createRequire(import.meta.url);

/** The native scanner (`@filer/fs-scan`) when it was built on install; null means use node:fs. */
export const nativeScan: NativeScan | null = (() => {
  try {
    return require('@filer/fs-scan') as NativeScan | null;
  } catch {
    return null;
  }
})();

const STAT_KINDS: EntryKind[] = ['other', 'file', 'dir', 'symlink', 'other'];
const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The symbolic code (`ENOENT`) of an errno number the native scanner returned. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? 'EIO';
}

const SYSTEM_ERRORS = getSystemErrorMap();

/** The message node:fs gives for an errno number from `syscall` on `path` (`EACCES: permission denied, open '…'`). */
export function errnoMessage(errno: number, syscall: string, path: string): string {
  const [name, text] = SYSTEM_ERRORS.get(-errno) ?? [errnoName(errno), 'i/o error'];
  return `${name}: ${text}, ${syscall} '${path}'`;
}

/** Lists a directory natively: one call, one string, one byte array of kind codes. */
export function nativeListDir(scan: NativeScan, dirPath: string): DirListing {
  const [joined, kinds] = scan.listDir(dirPath);
  return { names: kinds.length === 0 ? [] : joined.split('\0'), kinds };
}

/** Stats names relative to their directory with fstatat(2), in one call. */
export function nativeStatMany(
  scan: NativeScan,
  dirPath: string,
  names: readonly string[],
  follow: boolean,
  precise = false,
): (EntryStat | SourceFailure)[] {
  const f = scan.statNames(dirPath, names.join('\0'), names.length, follow);
  const out = new Array<EntryStat | SourceFailure>(names.length);
  for (let i = 0, o = 0; i < names.length; i++, o += 7) {
    const kind = f[o];
    if (kind < 0) {
      // Worded as node:fs words the portable walk's (the CLI prints the reason: "name too long").
      out[i] = { error: { code: errnoName(-kind), message: errnoMessage(-kind, follow ? 'stat' : 'lstat', `${dirPath}/${names[i]}`) } };
    } else {
      const st: EntryStat = { kind: STAT_KINDS[kind], size: f[o + 1], mtimeMs: f[o + 2], dev: f[o + 3], ino: f[o + 4] };
      if (precise) {
        st.mtimeSec = f[o + 5];
        st.mtimeNsec = f[o + 6];
      }
      out[i] = st;
    }
  }
  return out;
}

const FORMAT_CODES: Record<RecordFormat, 0 | 1 | 2 | 3 | 4> = { ndjson: 0, paths: 1, paths0: 2, csv: 3, 'ndjson-nostat': 4 };

/** A query as listRecords takes it, made once per query (a walker asks with the same one for every directory). */
type NativeQuery = [format: 0 | 1 | 2 | 3 | 4, exts: string, bounds: Float64Array, ignoreNames: string];
const nativeQueries = new WeakMap<RecordQuery, NativeQuery>();

function nativeQueryOf(q: RecordQuery): NativeQuery {
  let n = nativeQueries.get(q);
  if (n === undefined) {
    const bounds = Float64Array.of(q.minSize ?? -Infinity, q.maxSize ?? Infinity, q.newerThanMs ?? -Infinity, q.olderThanMs ?? Infinity);
    n = [FORMAT_CODES[q.format], q.extensions.map((e) => '.' + e).join('\0'), bounds, q.ignoreNames.join('\0')];
    nativeQueries.set(q, n);
  }
  return n;
}

/** A directory's matching files as records, listed, filtered and formatted natively (see RecordLister); null: use the general walk. */
export function nativeListRecords(
  scan: NativeScan,
  dirPath: string,
  hidden: boolean,
  wantDirs: boolean,
  query?: RecordQuery,
): RecordListing | null {
  const r =
    query === undefined
      ? scan.listRecords(dirPath, hidden, wantDirs)
      : scan.listRecords(dirPath, hidden, wantDirs, ...nativeQueryOf(query));
  if (r === null) return null;
  const [records, count, bytes, entries, subdirs, failed] = r;
  const failures: RecordListing['failures'] = [];
  if (failed !== '') {
    const parts = failed.split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const errno = Number(parts[i + 1]);
      // Worded as nativeStatMany and node:fs word a failed lstat.
      failures.push({ name: parts[i], error: { code: errnoName(errno), message: errnoMessage(errno, 'lstat', `${dirPath}/${parts[i]}`) } });
    }
  }
  return { records, count, bytes, entries, subdirs: subdirs === '' ? [] : subdirs.slice(0, -1).split('\0'), failures };
}
