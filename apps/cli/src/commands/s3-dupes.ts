import { ExitCode, type PathError } from '@filer/core';
import { findDuplicates, type DupePhase } from '@filer/engine';
import { checkS3Roots, createS3Client, s3ConfigFromEnv, S3DupeFiles, S3FileHasher, s3FilterNotes, walkS3 } from '@filer/storage/s3';
import { reportPathFailure, type CliContext } from '../cli-context.js';
import { formatCount, ProgressLine } from '../progress.js';
import { PHASE_LABEL, writeDupesReport } from './dupes-output.js';
import type { DupesPlan } from './dupes-plan.js';

/**
 * `filer dupes s3://…`: the engine's duplicate pipeline over a listing — sizes from the listing,
 * then sample hashes (ranged GETs of head and tail), then whole-object hashes where samples
 * collide, streamed, 16 objects at a time. Contents are hashed, never ETags (see S3FileHasher).
 * The local hash cache is not used: objects have no inode to tie a cached hash to.
 */
export async function runS3Dupes(plan: DupesPlan, ctx: CliContext, opts: { progress: boolean; quiet: boolean }): Promise<number> {
  const client = createS3Client(s3ConfigFromEnv());
  try {
    await checkS3Roots(client, plan.roots);
    if (!opts.quiet) for (const note of s3FilterNotes(plan.spec)) ctx.stderr(`filer: note: ${note}\n`);
    const listed = new S3DupeFiles();
    const hasher = new S3FileHasher(client, plan.algorithm);
    let errors = 0;
    let phase: DupePhase = 'scan';
    const reportError = (e: PathError): void => {
      errors++;
      if (!opts.quiet) reportPathFailure(ctx, e);
    };
    const progress = opts.progress
      ? new ProgressLine(ctx.stderr, (secs) =>
          phase === 'scan'
            ? `listing · ${formatCount(listed.files.length)} objects`
            : `${PHASE_LABEL[phase]} · ${formatCount(hasher.filesHashed)} objects hashed · ${formatCount(Math.round(hasher.bytesRead / 1e6 / secs))} MB/s`,
        )
      : undefined;
    progress?.start();
    try {
      await walkS3(client, { roots: plan.roots, spec: plan.spec, onEntry: (e) => listed.add(e), onError: reportError });
      const result = await findDuplicates(listed.files, {
        hasher,
        includeEmpty: plan.includeEmpty,
        emptyHash: hasher.emptyHash(),
        onPhase: (p) => void (phase = p),
      });
      for (const e of result.errors) reportError(e);
      progress?.stop();
      writeDupesReport(ctx, plan, result);
    } finally {
      progress?.stop();
    }
    return errors > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
  } finally {
    client.destroy();
  }
}
