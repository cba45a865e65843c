import { FilerError, type FilerErrorCode } from '@filer/core';

/** One input problem, named by its dotted field path (`filter.minSize`, `roots.0`). */
export interface FieldError {
  field: string;
  message: string;
}

/** Every error response: `{ error: { code, message, fields? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldError[]; state?: string };
}

/** An HTTP error with a stable code, raised by controllers and guards. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
    readonly headers: Record<string, string> = {},
    /** A job's state, on a 409 about it. */
    readonly state?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.fields ? { fields: this.fields } : {}),
        ...(this.state !== undefined ? { state: this.state } : {}),
      },
    };
  }
}

export const invalid = (field: string, message: string): ApiError => new ApiError(400, 'E_INVALID_ARGUMENT', message, [{ field, message }]);
export const notFound = (message: string): ApiError => new ApiError(404, 'E_NOT_FOUND', message);
export const conflict = (message: string, state?: string): ApiError => new ApiError(409, 'E_CONFLICT', message, undefined, {}, state);

/** Codes for statuses that arrive without one (Nest's and Fastify's own errors). */
export const CODE_BY_STATUS: Record<number, string> = {
  400: 'E_INVALID_ARGUMENT',
  401: 'E_UNAUTHORIZED',
  403: 'E_FORBIDDEN',
  404: 'E_NOT_FOUND',
  405: 'E_METHOD_NOT_ALLOWED',
  409: 'E_CONFLICT',
  413: 'E_PAYLOAD_TOO_LARGE',
  415: 'E_UNSUPPORTED_MEDIA_TYPE',
  429: 'E_TOO_MANY_REQUESTS',
  500: 'E_INTERNAL',
  503: 'E_UNAVAILABLE',
};

/**
 * Most FilerErrors a request can cause are problems with its input: 400, naming the field.
 * A path outside the allowed roots is a 400 too (E_PATH_NOT_ALLOWED), with the same answer
 * whether or not the path exists; only a file-system failure of the server itself is a 500.
 */
export const STATUS_BY_FILER_CODE: Record<FilerErrorCode, number> = {
  E_INVALID_ARGUMENT: 400,
  E_REGEX_UNSUPPORTED: 400,
  E_PATH_NOT_ALLOWED: 400,
  E_ROOT_NOT_FOUND: 400,
  E_ROOT_NOT_DIRECTORY: 400,
  E_IO: 500,
  E_UNSAFE_KEY: 400,
  E_NOT_FILE: 400,
  // What was asked cannot be done where it was asked (a reflink on a file system without them).
  E_UNSUPPORTED: 400,
  // The state of files or a journal, not the request, stands in the way.
  E_CHANGED: 409,
  E_PATH_CHANGED: 409,
  E_JOURNAL_FORMAT: 409,
  // A job that is not there, or whose state does not allow what was asked.
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  // The job database is down or refused: the request may succeed later.
  E_DATABASE: 503,
  // Per-file outcomes of a dedupe job (the files differ in owner or mode, or sit on two devices).
  E_PERMS_DIFFER: 409,
  E_CROSS_DEVICE: 409,
  // Only the CLI runs commands (find -x/-X), never the API: were it ever raised there, the server failed.
  E_EXEC: 500,
};

export function fromFilerError(e: FilerError): ApiError {
  const status = STATUS_BY_FILER_CODE[e.code] ?? 500;
  if (status === 500) return new ApiError(500, e.code, 'internal error');
  const fields = e.field !== undefined && e.field !== '' ? [{ field: e.field, message: e.message }] : [];
  return new ApiError(status, e.code, e.message, fields);
}
