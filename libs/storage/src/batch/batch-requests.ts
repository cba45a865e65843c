import { assertSafeKey, FilerError, type FileEntry, type PathError } from '@filer/core';
import { comparePaths, normalizeRoot, type DateSource, type MoveRequest } from '@filer/engine';
import { isS3Uri } from '../s3/s3-uri.js';
import {
  localNaming,
  nameFiles,
  renameRequests,
  rootIndexOf,
  sourceIdOf,
  transferTarget,
  type Namer,
  type NamingIo,
} from './name-files.js';

/** What a rename, copy or move job asks for, as far as its move requests go (the CLI's flags, the API's spec). */
export type BatchRequestSpec =
  | { kind: 'rename'; roots: readonly string[]; namer: Namer }
  | { kind: 'copy' | 'move'; roots: readonly string[]; dest: string; flatten: boolean };

export interface BatchRequestPorts {
  /** What naming reads from the files (rename): local files by default, S3 objects for S3 roots. */
  naming?: NamingIo;
  /** A file the job must leave out (move --follow: a symlinked file), as the failure to report; undefined to keep it. */
  leaveOut?(entry: FileEntry): PathError | undefined;
}

export interface BatchRequests {
  /** In the order the plan takes them: a rename's files in path order ({counter}'s order), a copy's roots as given, path order below each. */
  requests: MoveRequest[];
  /** Files found but not requested (an unsafe key, a symlink a move leaves), each failing alone. */
  pathErrors: PathError[];
  /** Where each rename's `{date}` came from, by the request's source (its plan line says it). */
  dateSources: Map<string, DateSource>;
}

/**
 * A job's matched files as its move requests, every one in memory: the reference the plan store's
 * feeds (TransferFeed, RenameFeed: what the CLI and the cluster's plan phase run) are tested
 * against. A rename names each file in its own directory (a key below its own
 * prefix), a copy or move keeps each file's place below its root under the destination. A key
 * that cannot name a file below its root or the destination (`..`, an empty segment…) fails
 * alone as E_UNSAFE_KEY; the rest of the job goes on.
 */
export async function batchRequests(
  spec: BatchRequestSpec,
  entries: readonly FileEntry[],
  ports: BatchRequestPorts = {},
): Promise<BatchRequests> {
  const pathErrors: PathError[] = [];
  const dateSources = new Map<string, DateSource>();
  const unsafe = (e: FileEntry, target: () => string): string | undefined => {
    try {
      return target();
    } catch (err) {
      if (!(err instanceof FilerError) || err.code !== 'E_UNSAFE_KEY') throw err;
      pathErrors.push({ path: e.path, code: err.code, message: err.message });
      return undefined;
    }
  };
  if (spec.kind === 'rename') {
    const files = [...entries].sort((a, b) => comparePaths(a.path, b.path));
    // A key's place below its prefix is untrusted text: its directory part is kept in the new key.
    const safe = files.filter((e) => {
      if (!isS3Uri(e.path)) return true;
      const root = normalizeRoot(spec.roots[rootIndexOf(spec.roots, e.path)] ?? '');
      return unsafe(e, () => (assertSafeKey(e.path.slice(root.length + 1), e.path), e.path)) !== undefined;
    });
    const named = await nameFiles(safe, spec.namer, ports.naming ?? localNaming);
    const requests = renameRequests(named, spec.roots);
    named.forEach((n, i) => n.dateSource !== undefined && dateSources.set(requests[i].source, n.dateSource));
    return { requests, pathErrors, dateSources };
  }
  const requests: MoveRequest[] = [];
  const byRoot = spec.roots.map(() => [] as FileEntry[]);
  for (const e of entries) byRoot[rootIndexOf(spec.roots, e.path)]?.push(e);
  byRoot.forEach((list, i) => {
    list.sort((a, b) => comparePaths(a.path, b.path));
    for (const e of list) {
      const target = unsafe(e, () => transferTarget(spec.dest, spec.flatten, spec.roots[i], e.path));
      if (target === undefined) continue;
      const left = ports.leaveOut?.(e);
      if (left !== undefined) {
        pathErrors.push(left);
        continue;
      }
      requests.push({ source: e.path, target, size: e.size ?? 0, within: spec.dest, ...sourceIdOf(e) });
    }
  });
  return { requests, pathErrors, dateSources };
}

/** Where a batch job writes: a rename within its own roots, a copy or move under its destination. */
export function batchTargets(spec: BatchRequestSpec): readonly string[] {
  return spec.kind === 'rename' ? spec.roots : [spec.dest];
}
