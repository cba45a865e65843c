/** Stable error codes: they cross every boundary unchanged (CLI exit code, HTTP status, job record). */
export type FilerErrorCode =
  | 'E_INVALID_ARGUMENT'
  | 'E_ROOT_NOT_FOUND'
  | 'E_ROOT_NOT_DIRECTORY'
  | 'E_REGEX_UNSUPPORTED'
  | 'E_PATH_NOT_ALLOWED'
  | 'E_IO'
  /** A file is not the version the job planned or made (changed, replaced, or a stranger): nothing done to it. */
  | 'E_CHANGED'
  /** A directory on a job's path was replaced (by a symlink, say) since the plan resolved it: nothing done through it. */
  | 'E_PATH_CHANGED'
  /** An untrusted name (an S3 key) has a segment that could lead elsewhere: that item fails. */
  | 'E_UNSAFE_KEY'
  /** A journal written by an earlier filer that this one cannot resume or undo safely. */
  | 'E_JOURNAL_FORMAT'
  /** The file system (or the kind of storage) cannot do what was asked (a reflink on ext4, say): nothing done. */
  | 'E_UNSUPPORTED'
  /** Something to be copied is not a regular file. */
  | 'E_NOT_FILE'
  /** What was asked for (a job, say) does not exist. */
  | 'E_NOT_FOUND'
  /** The state of what was asked for stands in the way (a job that is not planned, a record changed by others meanwhile). */
  | 'E_CONFLICT'
  /** The cluster's job database (PostgreSQL) failed a query or a migration. */
  | 'E_DATABASE'
  /** A hard link between files whose owner, group or mode differ (without --ignore-perms): skipped. */
  | 'E_PERMS_DIFFER'
  /** A hard link or a quarantine move would cross devices: skipped. */
  | 'E_CROSS_DEVICE'
  /** A command given to `find -x`/`-X` could not be started (not found, not executable): no more runs start. */
  | 'E_EXEC';

/** A typed error carrying a stable code, the offending path or field, and a human message. */
export class FilerError extends Error {
  readonly code: FilerErrorCode;
  readonly path?: string;
  /** The input field (e.g. `minSize`) or CLI flag the error is about, when it is about input. */
  readonly field?: string;
  readonly value?: string;

  constructor(code: FilerErrorCode, message: string, details: { path?: string; field?: string; value?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'FilerError';
    this.code = code;
    this.path = details.path;
    this.field = details.field;
    this.value = details.value;
  }
}

/** An input problem named by field: thrown by every parser of user input. */
export function invalidArgument(field: string, value: string, reason: string): FilerError {
  return new FilerError('E_INVALID_ARGUMENT', reason, { field, value });
}

export function isFilerError(e: unknown): e is FilerError {
  return e instanceof FilerError;
}
