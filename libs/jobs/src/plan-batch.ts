import type { FileEntry } from '@filer/core';
import type { Conflict } from '@filer/engine';
import { isInsideAllowed, openSink } from '@filer/storage';
import { batchRequests, batchTargets, compileNamer, type BatchRequestSpec } from '@filer/storage/batch';
import { startApply } from './apply-phase.js';
import type { ClusterContext } from './cluster-context.js';
import { ERROR_SAMPLE_LIMIT, type JobRecord } from './job-record.js';
import { setState } from './job-transition.js';
import { sharedS3Client } from './s3-access.js';
import { timeSlices } from './yielding-ops.js';

/** rename/copy/move: the CLI's use case (batchRequests) and sink over every matched file, then the plan is stored. */
export async function planBatch(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  const { spec } = rec;
  await ctx.store.update(id, (r) => void (r.phase = 'plan'));
  const entries: FileEntry[] = [];
  for await (const line of ctx.results.lines(id, 'scan')) entries.push(JSON.parse(line) as FileEntry);
  // The CLI's use case: the same requests from the same files, and the same sink's planner.
  const batch: BatchRequestSpec =
    spec.kind === 'rename'
      ? { kind: 'rename', roots: spec.roots, namer: compileNamer(spec.options) }
      : { kind: spec.kind as 'copy' | 'move', roots: spec.roots, dest: spec.options.dest!, flatten: spec.options.flatten ?? false };
  const targets = batchTargets(batch);
  // Paced: a plan of many files must not hold the event loop past the step's lock renewals.
  const sink = await openSink(spec.roots, targets, { s3Client: sharedS3Client, pace: timeSlices() });
  const onConflict = spec.options.onConflict ?? 'fail';
  // Keys that cannot name a file below the destination fail alone (E_UNSAFE_KEY), as in the CLI.
  const { requests, pathErrors: unsafe, dateSources } = await batchRequests(batch, entries, { naming: sink.naming });
  const plan = await sink.plan(requests, onConflict);
  const allowed = (target: string): boolean => isInsideAllowed(target, ctx.allowedRoots, ctx.config.allowedS3);
  const outside: Conflict[] = plan.actions
    .filter((a) => !allowed(a.target))
    .map((a) => ({ kind: 'outside-root', source: a.source, target: a.target, detail: 'target lies outside the allowed roots' }));
  const conflicts = [...plan.conflicts, ...outside];
  const refused = new Set(outside.map((c) => c.source));
  const actions = plan.actions.filter((a) => !refused.has(a.source));
  const lines = [
    ...actions.map(
      (a) =>
        JSON.stringify({
          action: spec.kind,
          source: a.source,
          target: a.target,
          size: a.size,
          ...(a.overwrite ? { overwrite: true } : {}),
          ...(dateSources.has(a.source) ? { dateSource: dateSources.get(a.source) } : {}),
        }) + '\n',
    ),
    ...conflicts.map((c) => JSON.stringify({ action: 'conflict', ...c }) + '\n'),
  ];
  await ctx.results.writePart(id, 'plan', 'all', lines);
  // The identities to journal, one line per planned action in plan order (the plan itself is
  // what users read; these are the apply's).
  await ctx.results.writePart(
    id,
    'plan-ids',
    'all',
    actions.map((a) => JSON.stringify(a.sourceId ?? null) + '\n'),
  );
  const planned = await setState(
    ctx,
    id,
    'planned',
    (r) => {
      for (const e of unsafe) {
        r.counters.errors++;
        r.counters.errorsByCode[e.code] = (r.counters.errorsByCode[e.code] ?? 0) + 1;
        if (r.errorSample.length < ERROR_SAMPLE_LIMIT) r.errorSample.push(e);
      }
      r.plan = {
        actions: actions.length,
        conflicts: conflicts.length,
        bytes: plan.bytes,
        unchanged: plan.unchanged,
        skipped: plan.skipped,
      };
      r.results = lines.length;
    },
    ['queued', 'running'],
  );
  if (planned !== undefined && spec.apply && conflicts.length === 0) await startApply(ctx, id);
}
