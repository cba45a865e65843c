import { FilerError, invalidArgument } from '@filer/core';
import { nameTaken, writeNewFile } from '../local/new-file.js';
import { isS3Uri, parseS3Uri } from '../s3/s3-uri.js';
import type { ManifestOut } from './manifest-out-port.js';

export type { ManifestOut } from './manifest-out-port.js';

/**
 * Checks a manifest's `--out` by its name alone, before anything is opened: an S3 one must name a
 * key (not a prefix), a local one must not exist (filer never overwrites it). `-` is stdout.
 */
export function checkManifestOutName(out: string): void {
  if (isS3Uri(out)) {
    const { key } = parseS3Uri(out, 'out');
    if (key === '' || key.endsWith('/'))
      throw invalidArgument('out', out, `'${out}' names a prefix: give the manifest's key (s3://bucket/path/manifest.csv)`);
  } else if (out !== '-' && nameTaken(out)) {
    throw new FilerError('E_INVALID_ARGUMENT', `'${out}' already exists: filer never overwrites it; choose another name`, {
      field: 'out',
      value: out,
    });
  }
}

/**
 * Opens a manifest's `--out`: an `s3://` key is checked at once (bucket there, key free) and only
 * it loads the AWS SDK; a local file is written whole and linked into place (writeNewFile).
 */
export async function openManifestOut(out: string): Promise<ManifestOut> {
  if (isS3Uri(out)) return (await import('../s3/s3-manifest-out.js')).openS3ManifestOut(out);
  return {
    write(text) {
      try {
        writeNewFile(out, text);
      } catch (e) {
        throw new FilerError('E_IO', `cannot write the manifest: ${(e as Error).message}`, { path: out, cause: e });
      }
      return Promise.resolve();
    },
    close: () => undefined,
  };
}
