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
  type MoveRequest,
} from '@filer/engine';
import { RealPaths } from '../local/real-paths.js';

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

/**
 * Works out every file's new name, in the order given (which is also `{counter}`'s): capture
 * dates are read (in parallel) and hashes computed only when the template uses them.
 */
export async function nameFiles(entries: FileEntry[], namer: Namer): Promise<Named[]> {
  if (namer.kind === 'replace') {
    // Joined, not normalised: an empty or '..' name must reach the planner as the invalid name it is.
    return entries.map((entry) => {
      const name = namer.replace(path.basename(entry.path));
      // A new base name, not a path: a '/' in it would move the file into another directory.
      const invalid = name.includes('/') ? { invalidName: `the new name '${name}' contains '/': --replace renames, it does not move` } : {};
      return { entry, target: path.resolve(path.dirname(entry.path)) + '/' + name, ...invalid };
    });
  }
  const t = namer.template;
  let captures: Awaited<ReturnType<typeof import('../media.js').readCaptureDates>> | undefined;
  if (t.needsCapture) {
    const { readCaptureDates } = await import('../media.js');
    captures = await readCaptureDates(entries.map((e) => e.path));
  }
  let hashes: (string | undefined)[] | undefined;
  if (t.needsHash) {
    // {hash:N}: a prefix of the file's sha256, computed on the hashing threads.
    const { LocalFileHasher } = await import('../hashing.js');
    const hasher = new LocalFileHasher('sha256');
    try {
      const outcomes = await hasher.hash(entries as DupeFile[], 'full');
      hashes = outcomes.map((o) => ('hash' in o ? o.hash : undefined));
      const failed = outcomes.find((o) => 'error' in o);
      if (failed && 'error' in failed)
        throw new FilerError('E_IO', `cannot hash ${failed.error.path}: ${failed.error.message}`, { path: failed.error.path });
    } finally {
      await hasher.close();
    }
  }
  return entries.map((entry, i) => {
    const capture = captures?.[i];
    const rendered = t.render({
      name: path.basename(entry.path),
      parent: path.basename(path.dirname(entry.path)),
      size: entry.size ?? 0,
      mtime: localWallTime(entry.mtimeMs ?? 0),
      capture,
      counter: i + 1,
      hash: hashes?.[i],
    });
    // The file's own directory is normalised; what the template rendered is not (its '..' is refused).
    const target = rendered.startsWith('/') ? rendered : path.resolve(path.dirname(entry.path)) + '/' + rendered;
    return { entry, target, dateSource: t.needsCapture ? (capture?.source ?? 'mtime') : undefined };
  });
}

/**
 * A rename's requests: each file's identity journaled, its target held inside the root it was
 * found under; source and target resolved as the plan acts on them (see resolveRequests).
 */
export function renameRequests(named: readonly Named[], roots: readonly string[]): MoveRequest[] {
  const real = new RealPaths();
  return named.map((n) => {
    const root = roots[rootIndexOf(roots, n.entry.path)];
    return {
      source: real.file(path.resolve(n.entry.path)),
      target: real.file(n.target),
      size: n.entry.size ?? 0,
      ...(root === undefined ? {} : { within: real.dir(root) }),
      ...sourceIdOf(n.entry),
      ...(n.invalidName === undefined ? {} : { invalidName: n.invalidName }),
    };
  });
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
