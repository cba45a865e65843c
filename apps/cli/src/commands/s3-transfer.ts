import { invalidArgument, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import type { FaultHook } from '@filer/engine';
import { LocalFileOps } from '@filer/storage';
import { planLocalMoves } from '@filer/storage/batch';
import {
  checkS3Roots,
  createS3Client,
  isS3Uri,
  parseS3Uri,
  planS3Moves,
  s3ConfigFromEnv,
  S3FileOps,
  S3Objects,
  walkS3,
} from '@filer/storage/s3';
import { reportPathFailure, type CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import type { BatchIo } from './batch-runner.js';
import { collectFiles } from './collect-files.js';

/** What a copy or move that touches S3 works with: one client for the walk, the plan and the transfers. */
export interface S3Session {
  collect(
    root: string,
    spec: FilterSpec,
    ctx: CliContext,
    opts: { quiet: boolean; config: CliConfig; holdFailures?: boolean },
  ): Promise<{ entries: FileEntry[]; errors: number; failures: PathError[] }>;
  io: BatchIo;
  close(): void;
}

/**
 * FILER_S3_HEAD_GUARD=true: a HEAD right before each no-overwrite put on buckets that ignore
 * `If-None-Match: *`. Default false: there the planner's listing of the destination, taken in the
 * same run, is the check (a key written by someone else after it can be replaced).
 */
function headGuardFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const text = env.FILER_S3_HEAD_GUARD ?? '';
  if (text === '' || /^(0|false|no)$/i.test(text)) return false;
  if (/^(1|true|yes)$/i.test(text)) return true;
  throw invalidArgument('FILER_S3_HEAD_GUARD', text, `FILER_S3_HEAD_GUARD must be true or false, not '${text}'`);
}

/** Checks S3 roots (bucket there, prefix not empty) and wires the S3 planner and file operations. */
export async function openS3Session(roots: readonly string[], dest: string): Promise<S3Session> {
  const headGuard = headGuardFromEnv();
  const client = createS3Client(s3ConfigFromEnv());
  try {
    const remoteRoots = roots.filter(isS3Uri);
    if (remoteRoots.length > 0) await checkS3Roots(client, remoteRoots);
  } catch (e) {
    client.destroy();
    throw e;
  }
  const objects = new S3Objects(client);
  let ops: S3FileOps | undefined;
  // The planner's listings of the destination, handed to the file operations the apply uses.
  const listings: [string, ReadonlySet<string>][] = [];
  const opsFor = (copyFault?: FaultHook): S3FileOps =>
    (ops ??= new S3FileOps(objects, new LocalFileOps(undefined, copyFault), { headGuard }));
  return {
    async collect(root, spec, ctx, opts) {
      if (!isS3Uri(root)) return collectFiles([root], spec, ctx, opts);
      const entries: FileEntry[] = [];
      const failures: PathError[] = [];
      await walkS3(client, {
        roots: [root],
        spec,
        onEntry: (e) => void entries.push(e),
        onError: (e) => {
          failures.push(e);
          if (!opts.quiet && opts.holdFailures !== true) reportPathFailure(ctx, e);
        },
      });
      return { entries, errors: failures.length, failures };
    },
    io: {
      plan: async (requests, onConflict) =>
        isS3Uri(dest)
          ? planS3Moves(client, dest, requests, onConflict, (prefix, existing) => listings.push([prefix, existing]))
          : planLocalMoves(requests, onConflict),
      ops: (copyFault) => {
        const made = opsFor(copyFault);
        for (const [prefix, existing] of listings) made.useListing(prefix, existing);
        return made;
      },
      noClobber: async (apply) => {
        if (!isS3Uri(dest)) return undefined;
        const { bucket: name } = parseS3Uri(dest, 'dest');
        const bucket = `s3://${name}/`;
        // The probe writes (and removes) an object: only when the plan is to be carried out.
        if (!apply) return `no-clobber: ${bucket} is probed for If-None-Match: * when applied (weak no-clobber (racy) where it is ignored)`;
        if (await objects.supportsConditionalWrites(name))
          return `no-clobber: ${bucket} honours If-None-Match: * (a key written by another client meanwhile is never replaced)`;
        return (
          `weak no-clobber (racy): ${bucket} ignores If-None-Match: *, so existing keys are found by this plan's listing` +
          `${headGuard ? ' and a HEAD before each put' : ''}; a key another client writes in between can be replaced`
        );
      },
    },
    close: () => client.destroy(),
  };
}
