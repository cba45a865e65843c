import * as os from 'node:os';
import * as path from 'node:path';
import { PathErrorSample, type FileEntry } from '@filer/core';
import type { OnConflict } from '@filer/engine';
import { isInsideAllowed, openSink, type BatchSink } from '@filer/storage';
import {
  batchTargets,
  compileNamer,
  RenameFeed,
  TransferFeed,
  type BatchRequestSpec,
  type Pace,
  type StoredPlanTotals,
} from '@filer/storage/batch';
import { PlanStore } from '@filer/storage/state';
import { startApply } from './apply-phase.js';
import type { ClusterContext } from './cluster-context.js';
import { ERROR_SAMPLE_LIMIT, type JobRecord } from './job-record.js';
import { setState } from './job-transition.js';
import { sharedS3Client } from './s3-access.js';
import { writeStoredPlan } from './stored-plan-parts.js';
import { timeSlices } from './yielding-ops.js';

/**
 * Where a worker keeps the plan stores of the plans it makes: its own temporary directory
 * (TMPDIR), never the shared results (a scratch SQLite file wants a local disk, and is removed
 * when the plan is written, or by the next plan of this host once its process is gone). One
 * directory per user: a shared /tmp's directory made by another user (root) is not writable.
 */
export const planStoreDir = (): string => path.join(os.tmpdir(), `filer-plans-${process.getuid?.() ?? 'user'}`);

/** Scan lines parsed and fed to the plan store at a time (one transaction each, a few milliseconds: the loop turns between). */
const FEED_PAGE = 1024;

/**
 * rename/copy/move: the CLI's use case and plan store (TransferFeed, RenameFeed over a PlanStore)
 * over every matched file, streamed from the scan parts; the plan and plan-ids parts are written
 * streamed from the store. No record per file is held in memory, whatever the job's size; the
 * event loop turns every few tens of milliseconds (lock renewals).
 */
export async function planBatch(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  const { spec } = rec;
  await ctx.store.update(id, (r) => void (r.phase = 'plan'));
  const batch: BatchRequestSpec =
    spec.kind === 'rename'
      ? { kind: 'rename', roots: spec.roots, namer: compileNamer(spec.options) }
      : { kind: spec.kind as 'copy' | 'move', roots: spec.roots, dest: spec.options.dest!, flatten: spec.options.flatten ?? false };
  const pace = timeSlices();
  const sink = await openSink(spec.roots, batchTargets(batch), { s3Client: sharedS3Client });
  // Sorted as the scan's entries come, so that no single statement holds the loop for the whole sort.
  const store = PlanStore.create(planStoreDir(), { sortAsAdded: spec.kind === 'rename' ? 'files' : 'requests' });
  let planned: JobRecord | undefined;
  let conflicts = 0;
  try {
    // Keys that cannot name a file below the destination fail alone (E_UNSAFE_KEY), as in the CLI:
    // counted by code, the first few kept.
    const byCode: Record<string, number> = {};
    const unsafe = new PathErrorSample((e) => void (byCode[e.code] = (byCode[e.code] ?? 0) + 1));
    const totals = await planStored(ctx, id, batch, spec.options.onConflict ?? 'fail', { sink, store, unsafe, pace });
    const allowed = (target: string): boolean => isInsideAllowed(target, ctx.allowedRoots, ctx.config.allowedS3);
    const written = await writeStoredPlan(ctx.results, id, spec.kind, store, allowed, pace);
    conflicts = written.conflicts;
    planned = await setState(
      ctx,
      id,
      'planned',
      (r) => {
        r.counters.errors += unsafe.count;
        for (const [code, n] of Object.entries(byCode)) r.counters.errorsByCode[code] = (r.counters.errorsByCode[code] ?? 0) + n;
        for (const e of unsafe.kept) if (r.errorSample.length < ERROR_SAMPLE_LIMIT) r.errorSample.push(e);
        r.plan = {
          actions: written.actions,
          conflicts: written.conflicts,
          bytes: totals.bytes,
          unchanged: totals.unchanged,
          skipped: totals.skipped,
        };
        r.results = written.actions + written.conflicts;
      },
      ['queued', 'running'],
    );
  } finally {
    store.close();
    sink.close();
  }
  if (planned !== undefined && spec.apply && conflicts === 0) await startApply(ctx, id);
}

/** Feeds the scan parts into the store through the job's feed, then plans there (against a stored listing of S3 targets). */
async function planStored(
  ctx: ClusterContext,
  id: string,
  batch: BatchRequestSpec,
  onConflict: OnConflict,
  io: { sink: BatchSink; store: PlanStore; unsafe: PathErrorSample; pace: Pace },
): Promise<StoredPlanTotals> {
  const { sink, store, unsafe, pace } = io;
  if (batch.kind === 'rename') {
    const feed = new RenameFeed({ roots: batch.roots, namer: batch.namer }, store, sink.naming, unsafe);
    await feedScan(ctx, id, (es) => feed.add(es), pace);
    return feed.plan(onConflict, await sink.listTargets?.(store), pace);
  }
  const feed = new TransferFeed({ kind: batch.kind, roots: batch.roots, dest: batch.dest, flatten: batch.flatten }, store, unsafe);
  await feedScan(ctx, id, (es) => feed.add(es), pace);
  return feed.plan(onConflict, await sink.listTargets?.(store), pace);
}

/** The scan parts' entries, FEED_PAGE at a time, into `add`. */
async function feedScan(ctx: ClusterContext, id: string, add: (entries: readonly FileEntry[]) => void, pace: Pace): Promise<void> {
  let page: FileEntry[] = [];
  for await (const line of ctx.results.lines(id, 'scan')) {
    page.push(JSON.parse(line) as FileEntry);
    if (page.length < FEED_PAGE) continue;
    add(page);
    page = [];
    const turn = pace();
    if (turn !== undefined) await turn;
  }
  if (page.length > 0) add(page);
}
