import { QUARANTINE_NAME } from '@filer/core';

/** Whether `p` names an object (`s3://bucket/key`) rather than a local path. */
export function isObjectUri(p: string): boolean {
  return p.startsWith('s3://');
}

/**
 * Where a dedupe job's `remove` puts an object: `s3://bucket/.filer-quarantine/<job>/<key>`, at the
 * top of its bucket (every walk skips that name), so undo copies it back and purge deletes it.
 */
export function objectQuarantineUri(jobId: string, copy: string): string {
  const slash = copy.indexOf('/', 's3://'.length);
  return `${copy.slice(0, slash)}/${QUARANTINE_NAME}/${jobId}/${copy.slice(slash + 1)}`;
}

/** `rel` below the directory (or the `s3://` prefix) `dir`: path.posix.join would fold the `//` of a URI. */
export function belowDir(dir: string, rel: string): string {
  return `${dir.replace(/\/+$/, '')}/${rel}`;
}
