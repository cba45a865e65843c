import { dedupeJournalRows, dedupePlanRecords, parseKeepRule, planDedupe, type DedupeGroupInput, type DupeGroup } from '@filer/engine';
import { describeDupeGroups } from '@filer/storage';
import { DEDUPE_ACTIONS_PART, startApply } from './apply-phase.js';
import type { ClusterContext } from './cluster-context.js';
import type { JobRecord } from './job-record.js';
import { setState } from './job-transition.js';
import { recordPhaseSums, type PhaseSums } from './phase-sums.js';
import { timeSlices } from './yielding-ops.js';

/** Groups described between two looks at the clock (a few ms of lstat calls). */
const DESCRIBE_SLICE = 64;

/** The report summary of a dupes job, from its hash phase's sums. */
export function dupesSummary(extra: Record<string, number>, groups: number): NonNullable<JobRecord['dupes']> {
  return {
    groups,
    duplicateFiles: extra.duplicateFiles ?? 0,
    wastedBytes: extra.wastedBytes ?? 0,
    filesHashed: extra.filesHashed ?? 0,
    bytesHashed: extra.bytesRead ?? 0,
    cacheHits: extra.cacheHits ?? 0,
  };
}

/**
 * A dupes job with an action, once its groups are found: the CLI's use case (describeDupeGroups,
 * planDedupe with the job's keep rules, reference roots and --isolate) over every group, stored
 * as the job's plan (a record per group and per skipped copy, as `--format ndjson` prints them) and
 * the journal rows its apply shards run (`applyDedupeJob`, as the CLI). The quarantine is named
 * after the cluster job. The job is then planned, and applied at once when the request said so.
 */
export async function planDedupeJob(ctx: ClusterContext, rec: JobRecord, groups: readonly DupeGroup[], summed: PhaseSums): Promise<void> {
  const id = rec.id;
  const { roots, options: o } = rec.spec;
  await ctx.store.update(id, (r) => void (r.phase = 'plan'));
  // The roots were resolved when the job was admitted, and the walk's paths start with them. Each
  // file is stat'ed (synchronously): a slice of groups at a time, so the finalizer's lock is renewed.
  const described: DedupeGroupInput[] = [];
  const pace = timeSlices();
  for (let i = 0; i < groups.length; i += DESCRIBE_SLICE) {
    described.push(...describeDupeGroups(groups.slice(i, i + DESCRIBE_SLICE), roots, roots));
    await pace();
  }
  const plan = planDedupe(described, {
    op: o.action!,
    roots,
    keep: (o.keep ?? []).map(parseKeepRule),
    reference: new Set((o.reference ?? []).map((r) => roots.indexOf(r)).filter((i) => i >= 0)),
    isolate: o.isolate === true,
    ignorePerms: o.ignorePerms === true,
    ...(o.moveTo === undefined ? {} : { moveTo: o.moveTo }),
    jobId: id,
  });
  const lines = [...dedupePlanRecords(plan)].map((l) => l + '\n');
  await ctx.results.writePart(id, 'plan', 'all', lines);
  await ctx.results.writePart(
    id,
    DEDUPE_ACTIONS_PART,
    'all',
    [...dedupeJournalRows(plan)].map((a) => JSON.stringify(a) + '\n'),
  );
  const planned = await setState(
    ctx,
    id,
    'planned',
    (r) => {
      recordPhaseSums(r, summed);
      r.dupes = dupesSummary(summed.extra, groups.length);
      r.plan = {
        actions: plan.summary.files,
        conflicts: 0,
        bytes: plan.summary.bytes,
        unchanged: 0,
        skipped: plan.skipped.length,
        groups: plan.summary.groups,
      };
      r.results = lines.length;
    },
    ['queued', 'running'],
  );
  if (planned !== undefined && rec.spec.apply) await startApply(ctx, id);
}
