import { ExitCode } from '@filer/core';
import { dedupeGroupJournalRows, planDedupeGroups, type DedupeGroupOutcome, type JournalAction } from '@filer/engine';
import { openDedupeStore, type DedupeStore } from '@filer/storage';
import { DedupeScratch, defaultStatePath, newJobId, openStateDb, SqliteJournal } from '@filer/storage/state';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { faultWiring, reportApply, streamedFailures } from './batch-runner.js';
import { searchDupes } from './dupes-command.js';
import { DedupePlanWriter } from './dedupe-output.js';
import type { DedupeRequest } from './dedupe-request.js';
import type { DupesPlan } from './dupes-plan.js';

/**
 * `filer dupes ROOT… --action …`: finds the duplicates, plans what happens to each copy, prints the
 * plan, and with --apply journals it as a `dedupe` job and carries it out (resume, undo and purge
 * through `filer jobs`).
 */
export async function runDedupe(
  plan: DupesPlan,
  req: DedupeRequest,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig; statePath?: string },
): Promise<number> {
  const found = await searchDupes(plan, ctx, opts);
  const searched = found.failures > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
  const jobId = req.apply ? newJobId() : '<job>';
  const { fault, copyFault } = faultWiring(opts.config);
  // Local files or S3 objects, decided once from the roots (checkRootKinds refused a mix).
  const store = await openDedupeStore(plan.roots, { native: opts.config.nativeScan, copyFault });
  const scratch = DedupeScratch.besideState(opts.statePath ?? plan.cachePath);
  try {
    // One pass, a group at a time: described, planned, printed and (with --apply) journaled.
    const out = new DedupePlanWriter(ctx, plan.format, req.apply, scratch);
    const described = await store.describe(found.groups, plan.roots, req.roots);
    const groups = planDedupeGroups(described, { ...req, jobId }, scratch);
    const rows = journalRows(groups, out)[Symbol.iterator]();
    if (!req.apply) {
      while (!rows.next().done);
      out.end();
      return searched;
    }
    // The job is made only once there is an action to journal.
    const first = rows.next();
    if (first.done) {
      out.end();
      return searched;
    }
    const db = openStateDb(opts.statePath ?? defaultStatePath());
    try {
      const code = await applyPlan(
        { first: first.value, rest: rows },
        { out, store, journal: new SqliteJournal(db) },
        req,
        ctx,
        jobId,
        fault,
      );
      return code !== ExitCode.Ok ? code : searched;
    } finally {
      db.close();
    }
  } finally {
    scratch.close();
    store.close();
  }
}

type JournalRow = Omit<JournalAction, 'seq' | 'state'>;

/** Journals the rows as they are planned (one transaction), then carries the job out through the store. */
async function applyPlan(
  rows: { first: JournalRow; rest: Iterator<JournalRow> },
  to: { out: DedupePlanWriter; store: DedupeStore; journal: SqliteJournal },
  req: DedupeRequest,
  ctx: CliContext,
  jobId: string,
  fault: ReturnType<typeof faultWiring>['fault'],
): Promise<number> {
  const { out, store, journal } = to;
  const actions = (function* () {
    yield rows.first;
    for (let r = rows.rest.next(); !r.done; r = rows.rest.next()) yield r.value;
  })();
  const job = journal.create('dedupe', actions, { onConflict: 'fail', verify: true, ignorePerms: req.ignorePerms }, [], 0, jobId);
  out.end();
  ctx.stderr(`filer: job ${job.id}: journaled ${out.summary.files} actions; applying\n`);
  return reportApply(ctx, await store.apply(job, journal, { fault, ...streamedFailures(ctx, job.id) }));
}

/** The journal's rows of each planned group, printing each group as it passes. */
function* journalRows(groups: Iterable<DedupeGroupOutcome>, out: DedupePlanWriter): Generator<JournalRow> {
  for (const o of groups) {
    out.add(o);
    if (o.plan !== undefined) yield* dedupeGroupJournalRows(o.plan);
  }
}
