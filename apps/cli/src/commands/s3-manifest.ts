import { FilerError, invalidArgument, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import type { HashOutcome } from '@filer/engine';
import {
  checkS3Roots,
  createS3Client,
  formatS3Uri,
  isS3Uri,
  parseS3Uri,
  s3ConfigFromEnv,
  S3DupeFiles,
  S3FileHasher,
  S3Objects,
  S3OpError,
  walkS3,
} from '@filer/storage/s3';
import { reportPathFailure, type CliContext } from '../cli-context.js';

/** What a manifest that reads or writes S3 uses: one client for the listing, the hashes and the put. */
export interface S3ManifestIo {
  /** Lists S3 roots with the walk's filters. */
  collect(roots: readonly string[], spec: FilterSpec, ctx: CliContext, quiet: boolean): Promise<{ entries: FileEntry[]; errors: number }>;
  /** sha256 of whole objects, streamed, 16 at a time. */
  hash(entries: readonly FileEntry[]): Promise<HashOutcome[]>;
  /** Writes the manifest as a new object (never over an existing one). */
  write(out: string, text: string): Promise<void>;
  close(): void;
}

const exists = (out: string): FilerError =>
  new FilerError('E_INVALID_ARGUMENT', `'${out}' already exists: filer never overwrites it; choose another name`, {
    field: 'out',
    value: out,
  });

/**
 * Checks what the manifest touches on S3 before any listing: S3 roots (bucket there, prefix not
 * empty) and an S3 `--out` (its bucket reachable, nothing at its key yet).
 */
export async function openS3Manifest(roots: readonly string[], out: string): Promise<S3ManifestIo> {
  const client = createS3Client(s3ConfigFromEnv());
  const objects = new S3Objects(client);
  try {
    const remote = roots.filter(isS3Uri);
    if (remote.length > 0) await checkS3Roots(client, remote);
    if (isS3Uri(out)) {
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
    }
  } catch (e) {
    client.destroy();
    throw e;
  }
  return {
    async collect(s3Roots, spec, ctx, quiet) {
      const entries: FileEntry[] = [];
      let errors = 0;
      await walkS3(client, {
        roots: s3Roots,
        spec,
        onEntry: (e) => void entries.push(e),
        onError: (e: PathError) => {
          errors++;
          if (!quiet) reportPathFailure(ctx, e);
        },
      });
      return { entries, errors };
    },
    async hash(entries) {
      const files = new S3DupeFiles();
      for (const e of entries) files.add(e);
      return new S3FileHasher(client, 'sha256').hash(files.files, 'full');
    },
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
