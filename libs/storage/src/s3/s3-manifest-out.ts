import { FilerError, invalidArgument } from '@filer/core';
import type { ManifestOut } from '../manifest/manifest-out-port.js';
import { createS3Client } from './s3-client.js';
import { s3ConfigFromEnv } from './s3-config.js';
import { S3OpError } from './s3-errors.js';
import { S3Objects } from './s3-objects.js';
import { formatS3Uri, parseS3Uri } from './s3-uri.js';

const exists = (out: string): FilerError =>
  new FilerError('E_INVALID_ARGUMENT', `'${out}' already exists: filer never overwrites it; choose another name`, {
    field: 'out',
    value: out,
  });

/** A manifest's S3 `--out`, checked before any listing: its bucket reachable, nothing at its key yet. Written as a new object, never over one. */
export async function openS3ManifestOut(out: string): Promise<ManifestOut> {
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
    async write(text) {
      const target = out;
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
