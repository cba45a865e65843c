import * as path from 'node:path';
import { compileNameReplacer, FilerError, type FileEntry } from '@filer/core';
import { compileTemplate, localWallTime, normalizeRoot, type CompiledTemplate, type DateSource, type DupeFile } from '@filer/engine';

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
}

/**
 * Works out every file's new name, in the order given (which is also `{counter}`'s): capture
 * dates are read (in parallel) and hashes computed only when the template uses them.
 */
export async function nameFiles(entries: FileEntry[], namer: Namer): Promise<Named[]> {
  if (namer.kind === 'replace') {
    // Joined, not normalised: an empty or '..' name must reach the planner as the invalid name it is.
    return entries.map((entry) => ({ entry, target: path.dirname(entry.path) + '/' + namer.replace(path.basename(entry.path)) }));
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
    const target = rendered.startsWith('/') ? rendered : path.dirname(entry.path) + '/' + rendered;
    return { entry, target, dateSource: t.needsCapture ? (capture?.source ?? 'mtime') : undefined };
  });
}

/** Where a copied or moved file goes: the tree below its root kept under `dest`, or its name alone when flattened. */
export function transferTarget(dest: string, flatten: boolean, root: string, file: string): string {
  const base = normalizeRoot(root);
  const rel = flatten ? path.posix.basename(file) : file.slice(base === '/' ? 1 : base.length + 1);
  // An S3 destination is a key prefix: joined as is (path.join would fold the '//' of s3://).
  if (dest.startsWith('s3://')) return dest.replace(/\/+$/, '') + '/' + rel;
  return path.join(dest, rel);
}
