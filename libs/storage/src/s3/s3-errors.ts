/** What the SDK's errors carry that we look at. */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** An error with an errno-style code, as the walk and the batch engine report them. */
export class S3OpError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'S3OpError';
  }
}

export function httpStatusOf(e: unknown): number | undefined {
  return (e as SdkError).$metadata?.httpStatusCode;
}

export function isNotFound(e: unknown): boolean {
  const err = e as SdkError;
  return err.name === 'NotFound' || err.name === 'NoSuchKey' || httpStatusOf(e) === 404;
}

/** Maps an SDK error to an errno-style code: ENOENT (404, NoSuchBucket), EACCES (403), EEXIST (412), else EIO. */
export function s3ErrorCode(e: unknown): string {
  const err = e as SdkError;
  const status = httpStatusOf(e);
  if (err.name === 'NoSuchBucket' || isNotFound(e)) return 'ENOENT';
  if (status === 403 || err.name === 'AccessDenied') return 'EACCES';
  if (status === 412 || err.name === 'PreconditionFailed') return 'EEXIST';
  return err.code ?? 'EIO';
}

/** Wraps an SDK error for `what` (an s3:// path) with an errno-style code and the store's own words. */
export function s3Error(e: unknown, what: string): S3OpError {
  const err = e as SdkError;
  const code = s3ErrorCode(e);
  const detail = err.name && err.name !== 'Error' ? `${err.name}: ${err.message ?? ''}` : (err.message ?? String(e));
  return new S3OpError(code, `${what}: ${detail}`.trim(), { cause: e });
}
