import * as path from 'node:path';
import { assertSafeKey, compileNameReplacer, FilerError, type FileEntry } from '@filer/core';
import {
  compileTemplate,
  identityOfEntry,
  localWallTime,
  normalizeRoot,
  type CompiledTemplate,
  type DateSource,
  type DupeFile,
  type FileIdentity,
  type HashOutcome,
  type MoveRequest,
} from '@filer/engine';
import { ODD_SEGMENT, RealPaths } from '../local/real-paths.js';
import type { CaptureDate } from '../media/capture-date.js';
import { isS3Uri } from '../s3/s3-uri.js';

/** How a new name is made: a template, or a regex replacement on the base name. */
export type Namer = { kind: 'template'; template: CompiledTemplate } | { kind: 'replace'; replace: (name: string) => string };

export function compileNamer(opts: { to?: string; replace?: string; with?: string }, fields = { to: 'to', replace: 'replace' }): Namer {
  if (opts.to !== undefined) return { kind: 'template', template: compileTemplate(opts.to, fields.to) };
  return { kind: 'replace', replace: compileNameReplacer(opts.replace!, opts.with ?? '') };
}

export interface Named {
  entry: FileEntry;
  target: string;
  dateSource?: DateSource;
  /** Why `target` is no valid name, when the namer made something that cannot be one. */
  invalidName?: string;
}

/** What naming reads from the files (a port: local files, or S3 objects with ranged GETs). */
export interface NamingIo {
  /** Capture dates in the order given; undefined where none was found. */
  captureDates(entries: readonly FileEntry[]): Promise<(CaptureDate | undefined)[]>;
  /** sha256 of each file in the order given (`{hash:N}`); throws E_IO naming a file that cannot be read. */
  hashes(entries: readonly FileEntry[]): Promise<string[]>;
  /** What a date without a capture date was taken from (the entry's mtimeMs): `mtime`, or an object's `LastModified`. */
  fallbackSource: DateSource;
}

/** Local files: capture dates read with exifr, hashes on the hashing threads. */
export const localNaming: NamingIo = {
  async captureDates(entries) {
    const { readCaptureDates } = await import('../media.js');
    // A file too small to hold a date is not opened (exifr also left an empty file's descriptor open).
    const read = entries.filter(mayHoldExifDate);
    const dates = await readCaptureDates(read.map((e) => e.path));
    if (read.length === entries.length) return dates;
    let next = 0;
    return entries.map((e) => (mayHoldExifDate(e) ? dates[next++] : undefined));
  },
  async hashes(entries) {
    const { LocalFileHasher } = await import('../hashing.js');
    const hasher = new LocalFileHasher('sha256');
    try {
      return hashesOf(await hasher.hash(entries as readonly DupeFile[], 'full'));
    } finally {
      await hasher.close();
    }
  },
  fallbackSource: 'mtime',
};

/**
 * The fewest bytes a file holding an EXIF date has: a TIFF header (8), one IFD entry (12) and the
 * date's 19 characters (`YYYY:MM:DD HH:MM:SS`, stored apart from its entry: more than 4 bytes).
 * Every format exifr reads wraps that TIFF in more.
 */
export const MIN_EXIF_DATE_BYTES = 39;

/** False for a file whose size (as walked) is too small to hold an EXIF date: its date is its mtime without reading it. */
export function mayHoldExifDate(e: FileEntry): boolean {
  return e.size === undefined || e.size >= MIN_EXIF_DATE_BYTES;
}

/** The hashes of a hasher's outcomes, in order; the first failure throws E_IO naming its file. */
export function hashesOf(outcomes: readonly HashOutcome[]): string[] {
  return outcomes.map((o) => {
    if ('error' in o) throw new FilerError('E_IO', `cannot hash ${o.error.path}: ${o.error.message}`, { path: o.error.path });
    return o.hash;
  });
}

/** Absolute, with no empty, '.' or '..' segment and no trailing '/': what path.resolve returns unchanged. */
function isCleanAbsolute(p: string): boolean {
  return p.charCodeAt(0) === 47 && !ODD_SEGMENT.test(p);
}

/** The path resolved (path.resolve), with no work for one that is absolute and clean already (a walk's). */
function absolute(p: string): string {
  return isCleanAbsolute(p) ? p : path.resolve(p);
}

/** The directory a file is in, as a rename's target is joined to it: an S3 key's prefix as written. */
function dirOf(file: string): string {
  if (isS3Uri(file)) return file.slice(0, file.lastIndexOf('/'));
  const abs = absolute(file);
  const slash = abs.lastIndexOf('/');
  return slash === 0 ? '/' : abs.slice(0, slash);
}

/** The last name of a path (path.basename, without its handling of a trailing '/', which a walked file has not). */
function baseOf(p: string): string {
  return p.charCodeAt(p.length - 1) === 47 ? path.basename(p) : p.slice(p.lastIndexOf('/') + 1);
}

/**
 * Works out every file's new name, in the order given (which is also `{counter}`'s, from
 * `firstCounter`: a plan named a page at a time passes its running count): capture dates are
 * read (in parallel) and hashes computed only when the template uses them.
 */
export async function nameFiles(entries: FileEntry[], namer: Namer, io: NamingIo = localNaming, firstCounter = 1): Promise<Named[]> {
  if (namer.kind === 'replace') {
    // Joined, not normalised: an empty or '..' name must reach the planner as the invalid name it is.
    return entries.map((entry) => {
      const name = namer.replace(path.basename(entry.path));
      // A new base name, not a path: a '/' in it would move the file into another directory.
      const invalid = name.includes('/') ? { invalidName: `the new name '${name}' contains '/': --replace renames, it does not move` } : {};
      return { entry, target: dirOf(entry.path) + '/' + name, ...invalid };
    });
  }
  const t = namer.template;
  const captures = t.needsCapture ? await io.captureDates(entries) : undefined;
  // {hash:N}: a prefix of the file's sha256.
  const hashes = t.needsHash ? await io.hashes(entries) : undefined;
  return entries.map((entry, i) => {
    const capture = captures?.[i];
    // A walked local path is absolute and clean: its directory and its parent's name are slices of it.
    const clean = isCleanAbsolute(entry.path);
    const dir = clean ? entry.path.slice(0, Math.max(1, entry.path.lastIndexOf('/'))) : dirOf(entry.path);
    const rendered = t.render({
      name: baseOf(entry.path),
      parent: clean ? baseOf(dir) : path.basename(path.dirname(entry.path)),
      size: entry.size ?? 0,
      mtime: localWallTime(entry.mtimeMs ?? 0),
      capture,
      counter: firstCounter + i,
      hash: hashes?.[i],
    });
    const dateSource = t.needsCapture ? (capture?.source ?? io.fallbackSource) : undefined;
    // A key is named below its own prefix: an absolute result would name no key there.
    if (isS3Uri(entry.path) && rendered.startsWith('/'))
      return { entry, target: rendered, dateSource, invalidName: `the template made '${rendered}': an S3 key is renamed below its prefix` };
    // The file's own directory is normalised; what the template rendered is not (its '..' is refused).
    const target = rendered.startsWith('/') ? rendered : dir + '/' + rendered;
    return { entry, target, dateSource };
  });
}

/**
 * A rename's requests: each file's identity journaled, its target held inside the root it was
 * found under; source and target resolved as the plan acts on them (see resolveRequests).
 */
export function renameRequests(named: readonly Named[], roots: readonly string[], real = new RealPaths()): MoveRequest[] {
  return named.map((n) => {
    const root = roots[rootIndexOf(roots, n.entry.path)];
    const s3 = isS3Uri(n.entry.path);
    return {
      ...resolveNamed(n, real),
      size: n.entry.size ?? 0,
      ...(root === undefined ? {} : { within: s3 ? normalizeRoot(root) : real.dir(root) }),
      ...sourceIdOf(n.entry),
      ...(n.invalidName === undefined ? {} : { invalidName: n.invalidName }),
    };
  });
}

/** A named file's source and target as the plan acts on them (see resolveRequests). */
export function resolveNamed(n: Named, real: RealPaths): { source: string; target: string } {
  // S3 keys are kept as written (no symlinks to resolve; their '..' is the planner's to refuse).
  if (isS3Uri(n.entry.path)) return { source: n.entry.path, target: n.target };
  return { source: real.file(absolute(n.entry.path)), target: real.file(n.target) };
}

/** `{ sourceId }` when the walk recorded the entry's identity (it must, for a journal). */
export function sourceIdOf(e: FileEntry): { sourceId?: FileIdentity } {
  const id = identityOfEntry(e);
  return id === undefined ? {} : { sourceId: id };
}

/**
 * Where a copied or moved file goes: the tree below its root kept under `dest`, or its name alone
 * when flattened. A key's part below its root is untrusted: one that could lead out of `dest`
 * (`..`, `.`, an empty segment, a backslash, NUL) throws E_UNSAFE_KEY for that file alone.
 */
export function transferTarget(dest: string, flatten: boolean, root: string, file: string): string {
  const base = normalizeRoot(root);
  const below = file.slice(base === '/' ? 1 : base.length + 1);
  // Split by hand: path.posix.basename would drop a trailing '/' and hide an empty last segment.
  const rel = flatten ? below.slice(below.lastIndexOf('/') + 1) : below;
  if (file.startsWith('s3://')) assertSafeKey(rel, file);
  // An S3 destination is a key prefix: joined as is (path.join would fold the '//' of s3://).
  if (dest.startsWith('s3://')) return dest.replace(/\/+$/, '') + '/' + rel;
  return path.join(dest, rel);
}

/** The index of the root a walked path came from (the longest that contains it), or -1. */
export function rootIndexOf(roots: readonly string[], file: string): number {
  let best = -1;
  roots.forEach((r, i) => {
    const base = normalizeRoot(r);
    const inside = file === base || file.startsWith(base === '/' ? '/' : base + '/');
    if (inside && (best < 0 || base.length > normalizeRoot(roots[best]).length)) best = i;
  });
  return best;
}
