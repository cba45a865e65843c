import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The battery's manifest of a tree: one line per file, `relative path \t size \t sha256`, sorted
 * by bytes (`find . -type f -printf '%P\t%s\n' | sort` plus `sha256sum`). Trees are compared
 * by equality of their manifests.
 */
export function treeManifest(root: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(root)) return out;
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isDirectory()) continue;
    const p = path.join(e.parentPath, e.name);
    const bytes = fs.readFileSync(p);
    out.push(`${path.relative(root, p)}\t${bytes.length}\t${createHash('sha256').update(bytes).digest('hex')}`);
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** How many non-directories are below `root` (0 when it is gone). */
export function fileCount(root: string): number {
  if (!fs.existsSync(root)) return 0;
  return fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).length;
}
