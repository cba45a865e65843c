import { ExitCode, invalidArgument, parseFilterSpec } from '@filer/core';
import { duplicatesFromGroups, findDuplicates, parseDupesFormat, type DupeFile, type DupePhase } from '@filer/engine';
import {
  canScanNatively,
  dupeFilesOf,
  findDuplicatesNatively,
  openSource,
  scanTreeNatively,
  type DupeFileList,
  type WalkSource,
} from '@filer/storage';
import { defaultStatePath, openStateDb, SqliteHashCache } from '@filer/storage/state';
import { filterInputFromFlags } from '../filter-flags.js';
import { reportPathFailure, formatPathError, type CliContext } from '../cli-context.js';
import { formatCount, ProgressLine } from '../progress.js';
import { checkRootKinds } from './root-kinds.js';
import { PHASE_LABEL, writeDupesReport } from './dupes-output.js';
import type { DupesPlan } from './dupes-plan.js';
import type { CliConfig } from '../config.js';

export interface DupesFlags {
  format: string;
  hash: string;
  cache: string | boolean;
  includeEmpty?: boolean;
  [filter: string]: unknown;
}

export function resolveDupesPlan(roots: string[], flags: DupesFlags): DupesPlan {
  const spec = parseFilterSpec(filterInputFromFlags(flags as never));
  if (spec.type !== 'file')
    throw invalidArgument('type', String(flags.type), `dupes compares files: --type must be f, not '${flags.type}'`);
  if (flags.hash !== 'xxh128' && flags.hash !== 'sha256')
    throw invalidArgument('hash', flags.hash, `invalid hash '${flags.hash}': expected xxh128 or sha256`);
  const plan: DupesPlan = {
    roots,
    spec,
    format: parseDupesFormat(flags.format),
    algorithm: flags.hash,
    cachePath: flags.cache === false ? undefined : typeof flags.cache === 'string' ? flags.cache : defaultStatePath(),
    includeEmpty: flags.includeEmpty ?? false,
  };
  checkRootKinds(roots, 'dupes');
  return plan;
}

/**
 * The dupes walk stays on this thread this long before helper walkers start. A helper costs its
 * start-up (loading modules on a fresh thread) while the hashing threads are still to come: on
 * trees of 50,000–100,000 files walking alone was faster and took less CPU; bigger trees still get
 * helpers. FILER_WALK_SPAWN_AFTER_MS overrides it.
 */
const DUPES_SPAWN_AFTER_MS = 250;

/**
 * Once the walk has found this many files, the hashing threads start: their start-up then overlaps
 * the walk instead of delaying the first sample, and a small tree still never pays for them.
 */
const HASHERS_START_AFTER_FILES = 2000;

/**
 * Runs `filer dupes`: walk, size groups, sample and full hashes (cached where the source allows),
 * then the report. On S3 the listing gives the sizes and objects are hashed by ranged GETs of
 * head and tail, then whole where samples collide; contents are hashed, never ETags.
 */
export async function runDupes(
  plan: DupesPlan,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig },
): Promise<number> {
  // Local (native or node:fs) or S3, chosen once; S3 roots are checked here and only they load the AWS SDK.
  const source = await openSource(plan.roots, { native: opts.config.nativeScan });
  try {
    if (!opts.quiet) for (const note of source.notes(plan.spec)) ctx.stderr(`filer: note: ${note}\n`);
    return await dupesIn(source, plan, ctx, opts);
  } finally {
    source.close();
  }
}

async function dupesIn(
  source: WalkSource,
  plan: DupesPlan,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig },
): Promise<number> {
  let files: DupeFile[] = [];
  let errors = 0;
  let phase: DupePhase = 'scan';
  let scanned = 0;
  const hasher = await source.hasher(plan.algorithm, plan.spec.follow);
  const [scanning, items] = source.kind === 's3' ? ['listing', 'objects'] : ['scanning', 'files'];
  // Files and bytes hashed by the native pipeline, beside the hasher's own counts.
  const nativeHashed = new Float64Array(2);
  const progress = opts.progress
    ? new ProgressLine(ctx.stderr, (secs) =>
        phase === 'scan'
          ? `${scanning} · ${formatCount(scanned)} ${items}`
          : `${PHASE_LABEL[phase]} · ${formatCount(hasher.filesHashed + nativeHashed[0])} ${items} hashed · ${formatCount(Math.round((hasher.bytesRead + nativeHashed[1]) / 1e6 / secs))} MB/s`,
      )
    : undefined;
  const reportError = (e: Parameters<typeof formatPathError>[0]): void => {
    errors++;
    if (!opts.quiet) reportPathFailure(ctx, e);
  };

  progress?.start();
  const db = plan.cachePath === undefined || !source.cachesHashes ? undefined : openStateDb(plan.cachePath);
  try {
    const cache = db === undefined ? undefined : new SqliteHashCache(db);
    // The native tree scan when the filters allow it (no ignore files, excludes or -L): several
    // threads list and stat at once, matching each file against the cache as they go. The portable
    // walk otherwise.
    const tryNative = source.kind === 'local-native' && canScanNatively(plan.spec);
    const cacheRows = tryNative ? cache?.rowsUnder(plan.roots, plan.algorithm) : undefined;
    // A warm rerun hashes nothing: threads started for it would only take CPU from the walk.
    const startHashersEarly =
      cache === undefined || (cacheRows !== undefined ? cacheRows.rows.length === 0 : !cache.hasEntriesUnder(plan.roots, plan.algorithm));
    // Hashing threads that will be needed start first: they load while the scan runs.
    if (startHashersEarly && tryNative) hasher.start();
    // One root without name or stat filters (and the cache's rows in hand, or no cache): the whole
    // pipeline runs in the addon, and its files never become records here. It hands the scan back
    // when hashes are missing that only the engine makes (sha256).
    const whole =
      tryNative && plan.roots.length === 1 && (cache === undefined || cacheRows !== undefined)
        ? await findDuplicatesNatively(plan.roots[0], plan.spec, {
            cacheRows,
            includeEmpty: plan.includeEmpty,
            emptyHash: hasher.emptyHash(),
            canHash: plan.algorithm === 'xxh128',
            progress: nativeHashed,
            onPhase: (p) => void (phase = p),
          })
        : undefined;
    let result: Awaited<ReturnType<typeof findDuplicates>>;
    if (whole?.kind === 'grouped') {
      whole.scanErrors.forEach(reportError);
      if (cacheRows !== undefined && whole.served !== undefined) cache?.markServed(cacheRows, whole.served, plan.algorithm);
      cache?.storeRows(whole.rows, plan.algorithm);
      result = duplicatesFromGroups(whole.groups, whole.stats, whole.errors);
    } else {
      // A tree too large for the native pipeline is too large for the native scan too: not scanned again.
      const native =
        whole?.kind === 'files'
          ? whole.scan
          : tryNative && whole?.kind !== 'too-large'
            ? scanTreeNatively(plan.roots, plan.spec, { cacheRows })
            : undefined;
      if (native !== undefined) {
        native.errors.forEach(reportError);
        if (cacheRows !== undefined && native.served !== undefined) cache?.markServed(cacheRows, native.served, plan.algorithm);
        files = dupeFilesOf(native);
        scanned = files.length;
      } else {
        const list: DupeFileList = source.dupeFiles();
        files = list.files;
        const walk = source.walk({
          spec: plan.spec,
          statAll: true,
          identity: true,
          output: { kind: 'entries' },
          spawnAfterMs: opts.config.spawnAfterMs ?? DUPES_SPAWN_AFTER_MS,
          onEntries: (entries) => {
            list.add(entries);
            scanned = files.length;
            if (startHashersEarly && scanned >= HASHERS_START_AFTER_FILES) hasher.start();
          },
          onError: reportError,
        });
        await walk.done;
      }
      result = await findDuplicates(files, {
        hasher,
        cache,
        includeEmpty: plan.includeEmpty,
        emptyHash: hasher.emptyHash(),
        onPhase: (p) => void (phase = p),
      });
    }
    for (const e of result.errors) reportError(e);
    cache?.evict();
    progress?.stop();
    writeDupesReport(ctx, plan, result);
    return errors > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
  } finally {
    progress?.stop();
    await hasher.close();
    db?.close();
  }
}
