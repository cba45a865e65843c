import { availableParallelism } from 'node:os';
import { compileFilter, type FilterSpec, type PathError } from '@filer/core';
import { normalizeRoot, type DupeFile } from '@filer/engine';
import { nativeScan, type NativeScan } from './native-scan.js';

/** The regular files under some roots with their identity, and what could not be read. */
export interface ScannedFiles {
  files: DupeFile[];
  errors: PathError[];
}

/**
 * Whether a spec can be walked by the native tree scan: it reads no ignore files (those prune
 * directories as the walk goes), excludes nothing, follows no symlinks and wants regular files.
 * Everything else it can ask (extensions, names, sizes, times, depth, hidden) is applied per file.
 */
export function canScanNatively(spec: FilterSpec): boolean {
  return !spec.ignoreFiles && !spec.follow && spec.excludes.length === 0 && spec.type === 'file';
}

/** The scan's threads: it waits on the kernel's directory and inode reads, which run in parallel. */
const SCAN_THREADS = Math.min(4, Math.max(1, availableParallelism()));

/**
 * Lists every regular file under `roots` (directories) with its size, device, inode and exact mtime
 * in one native call per root, several threads walking the tree at once: the same files and errors
 * as the portable walk of the same spec, in no fixed order. Undefined when the native scanner is not
 * built, the spec needs the portable walk (see `canScanNatively`) or the tree's paths are too many
 * for one call.
 */
export function scanFilesNatively(
  roots: readonly string[],
  spec: FilterSpec,
  scan: NativeScan | null = nativeScan,
): ScannedFiles | undefined {
  if (scan === null || !canScanNatively(spec)) return undefined;
  const { matchesName, matchesStat } = compileFilter(spec);
  const files: DupeFile[] = [];
  const errors: PathError[] = [];
  for (const root of roots) {
    let result: [string, Float64Array, string];
    try {
      result = scan.scanFiles(normalizeRoot(root), spec.hidden, spec.maxDepth ?? -1, SCAN_THREADS);
    } catch (e) {
      // A tree whose paths do not fit in one string (hundreds of MB of them) is walked portably.
      if ((e as { code?: string }).code === 'E2BIG') return undefined;
      throw e;
    }
    const [joined, f, failed] = result;
    const paths = joined === '' ? [] : joined.split('\0');
    for (let i = 0, o = 0; i < paths.length; i++, o += 5) {
      const path = paths[i];
      if (matchesName !== undefined && !matchesName(path.slice(path.lastIndexOf('/') + 1))) continue;
      if (matchesStat !== undefined && !matchesStat(f[o], f[o + 3] * 1000 + f[o + 4] / 1e6)) continue;
      files.push({ path, size: f[o], dev: f[o + 1], ino: f[o + 2], mtimeSec: f[o + 3], mtimeNsec: f[o + 4] });
    }
    const parts = failed.split('\0');
    for (let k = 0; k + 2 < parts.length; k += 3) errors.push({ path: parts[k], code: parts[k + 1], message: parts[k + 2] });
  }
  return { files, errors };
}
