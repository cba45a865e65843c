import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

/** The hidden temporary name a copy is staged under beside its target (`.NAME.filer-JOB.tmp`). */
export const FILER_TEMP_NAME = /^\..+\.filer-[^/]*\.tmp$/;

/** One regular file of a manifest: its size and sha256. */
export interface ManifestEntry {
  size: number;
  sha256: string;
}

/** Relative path → size and sha256 of every regular file below a directory; filer's temporary files apart. */
export interface TreeManifest {
  files: Map<string, ManifestEntry>;
  /** Relative paths of filer's leftover temporary files (`.NAME.filer-JOB.tmp`). */
  temps: string[];
}

/** sha256 of a file's bytes, read in one go (test trees hold files of a few MiB at most). */
export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * The battery's manifest of `dir`: GNU find lists the regular files and their sizes (`find -type f
 * -printf '%P\t%s'`, an oracle filer did not write), each is hashed with sha256. An absent
 * directory has an empty manifest. Equal manifests mean byte-identical trees of files.
 */
export function treeManifest(dir: string): TreeManifest {
  const files = new Map<string, ManifestEntry>();
  const temps: string[] = [];
  if (!fs.existsSync(dir)) return { files, temps };
  const out = execFileSync('find', [dir, '-type', 'f', '-printf', '%P\\t%s\\0'], { maxBuffer: 1 << 28 }).toString('utf8');
  for (const record of out.split('\0').sort()) {
    if (record === '') continue;
    const tab = record.lastIndexOf('\t');
    const rel = record.slice(0, tab);
    if (FILER_TEMP_NAME.test(path.basename(rel))) temps.push(rel);
    else files.set(rel, { size: Number(record.slice(tab + 1)), sha256: sha256File(path.join(dir, rel)) });
  }
  return { files, temps };
}

/** Every regular file below `dir` (relative, sorted), temporary files included: cheap, no hashing. */
export function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return execFileSync('find', [dir, '-type', 'f', '-printf', '%P\\0'], { maxBuffer: 1 << 28 })
    .toString('utf8')
    .split('\0')
    .filter((rel) => rel !== '')
    .sort();
}

/** Relative path → sha256 of every regular file below `root` (what a copy must reproduce, byte for byte). */
export function fileHashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    out[path.relative(root, p)] = sha256File(p);
  }
  return out;
}
