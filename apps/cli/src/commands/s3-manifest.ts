import { FilerError, invalidArgument } from '@filer/core';
import { createS3Client, formatS3Uri, parseS3Uri, s3ConfigFromEnv, S3Objects, S3OpError } from '@filer/storage/s3';

/**
 * Where a manifest with an S3 `--out` goes. (S3 roots are read through openSource like local
 * ones; this is the write side, for openSink to take over.)
 */
export interface S3ManifestOut {
  /** Writes the manifest as a new object (never over an existing one). */
  write(out: string, text: string): Promise<void>;
  close(): void;
}

const exists = (out: string): FilerError =>
  new FilerError('E_INVALID_ARGUMENT', `'${out}' already exists: filer never overwrites it; choose another name`, {
    field: 'out',
    value: out,
  });

/** Checks an S3 `--out` before any listing: its bucket reachable, nothing at its key yet. */
export async function openS3Manifest(out: string): Promise<S3ManifestOut> {
  const client = createS3Client(s3ConfigFromEnv());
  const objects = new S3Objects(client);
  try {
    const loc = parseS3Uri(out, 'out');
    let there;
    try {
      await objects.checkBucket(loc.bucket);
      there = await objects.head(loc);
    } catch (e) {
      if (e instanceof S3OpError && e.code === 'ENOENT')
        throw invalidArgument('out', out, `cannot write the manifest to ${out}: bucket '${loc.bucket}' does not exist`);
      throw outError(out, e);
    }
    if (there !== undefined) throw exists(out);
  } catch (e) {
    client.destroy();
    throw e;
  }
  return {
    async write(target, text) {
      const loc = parseS3Uri(target, 'out');
      try {
        await objects.putNew(loc, Buffer.from(text, 'utf8'));
      } catch (e) {
        if (e instanceof S3OpError && e.code === 'EEXIST')
          throw new FilerError('E_IO', `${formatS3Uri(loc)} appeared while the manifest was made: not overwritten`, { path: target });
        throw outError(target, e);
      }
    },
    close: () => client.destroy(),
  };
}

function outError(out: string, e: unknown): FilerError {
  return new FilerError('E_IO', `cannot write the manifest to ${out}: ${(e as Error).message}`, { path: out, cause: e });
}
