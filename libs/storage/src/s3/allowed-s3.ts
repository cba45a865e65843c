import { FilerError } from '@filer/core';
import { parseS3Uri, type S3Location } from './s3-uri.js';

/**
 * One entry of the cluster's S3 allow-list (FILER_ALLOWED_S3): a whole bucket (`key` '') or a
 * prefix inside one, held without slashes at either end so `logs/2025` allows `logs/2025/…` and
 * not `logs/2025-old/…`.
 */
export type AllowedS3 = S3Location;

const trimSlashes = (key: string): string => key.replace(/^\/+|\/+$/g, '');

/**
 * Parses FILER_ALLOWED_S3: entries separated by commas or whitespace, each `bucket`,
 * `bucket/prefix` or the same with `s3://` in front. Problems are returned, one per bad entry,
 * so a configuration reader can report them all at once.
 */
export function parseAllowedS3(text: string | undefined): { allowed: AllowedS3[]; problems: string[] } {
  const allowed: AllowedS3[] = [];
  const problems: string[] = [];
  for (const entry of (text ?? '').split(/[\s,]+/).filter((e) => e !== '')) {
    try {
      const loc = parseS3Uri(entry.startsWith('s3://') ? entry : `s3://${entry}`, 'FILER_ALLOWED_S3');
      allowed.push({ bucket: loc.bucket, key: trimSlashes(loc.key) });
    } catch (e) {
      problems.push(`FILER_ALLOWED_S3: '${entry}': ${(e as Error).message}`);
    }
  }
  return { allowed, problems };
}

/** Whether `s3://bucket/key` lies in an allowed bucket, or at or below an allowed prefix. */
export function isInsideAllowedS3(uri: string, allowed: readonly AllowedS3[]): boolean {
  let loc: S3Location;
  try {
    loc = parseS3Uri(uri, 'uri');
  } catch {
    return false;
  }
  const key = trimSlashes(loc.key);
  return allowed.some((a) => a.bucket === loc.bucket && (a.key === '' || key === a.key || key.startsWith(a.key + '/')));
}

/**
 * Admits an `s3://` root or destination from a request: a valid URI with no `.`/`..` segment,
 * inside the allow-list. Refusals name the field (`roots.0`, `options.dest`); with an empty list
 * every S3 path is refused, which is the default.
 */
export function admitS3Uri(uri: string, allowed: readonly AllowedS3[], field: string): string {
  const shown = uri.slice(0, 200);
  const loc = parseS3Uri(uri, field);
  if (loc.key.split('/').some((s) => s === '.' || s === '..'))
    throw new FilerError('E_PATH_NOT_ALLOWED', `${field} '${shown}' must not contain '.' or '..' segments`, {
      field,
      value: shown,
      path: shown,
    });
  if (!isInsideAllowedS3(uri, allowed))
    throw new FilerError(
      'E_PATH_NOT_ALLOWED',
      allowed.length === 0
        ? `${field} '${shown}': S3 is not enabled on this server (FILER_ALLOWED_S3 is empty)`
        : `${field} '${shown}' is not inside an allowed bucket or prefix (FILER_ALLOWED_S3)`,
      { field, value: shown, path: shown },
    );
  return uri;
}
