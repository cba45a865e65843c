import { FilerError } from './errors.js';

/**
 * Why a relative name from an untrusted source (an S3 key below its root, later a --files-from
 * line) may not become a path, or undefined when it may: every segment must be a plain name —
 * not empty (a leading '/' or '//'), not '.' or '..', no backslash (a separator elsewhere), no NUL.
 * Checked on the text itself, before anything joins or normalises it (path.join would fold
 * `a/../../x` into `../x` first).
 */
export function unsafeKeyReason(rel: string): string | undefined {
  if (rel.includes('\0')) return 'contains a NUL byte';
  if (rel.includes('\\')) return 'contains a backslash';
  for (const segment of rel.split('/')) {
    if (segment === '') return rel.startsWith('/') ? "starts with '/'" : 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a '${segment}' segment`;
  }
  return undefined;
}

/** Throws E_UNSAFE_KEY naming `whole` (the full key or URI) when `rel` may not become a path. */
export function assertSafeKey(rel: string, whole: string): void {
  const why = unsafeKeyReason(rel);
  if (why !== undefined)
    throw new FilerError('E_UNSAFE_KEY', `unsafe key ${JSON.stringify(whole)}: it ${why}, so it cannot name a file below the destination`, {
      path: whole,
    });
}
