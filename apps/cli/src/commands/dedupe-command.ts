import { ExitCode } from '@filer/core';
import { applyDedupeJob, dedupeJournalRows, planDedupe } from '@filer/engine';
import { describeDupeGroups, LocalDedupeOps } from '@filer/storage';
import { defaultStatePath, newJobId, openStateDb, SqliteJournal } from '@filer/storage/state';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { faultWiring, reportApply, streamedFailures } from './batch-runner.js';
import { searchDupes } from './dupes-command.js';
import { writeDedupePlan } from './dedupe-output.js';
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
  const jobId = req.apply ? newJobId() : '<job>';
  const dedupe = planDedupe(describeDupeGroups(found.groups, plan.roots, req.roots), { ...req, jobId });
  writeDedupePlan(ctx, dedupe, plan.format, req.apply);
  const searched = found.failures > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
  if (!req.apply || dedupe.summary.files === 0) return searched;
  const db = openStateDb(opts.statePath ?? defaultStatePath());
  try {
    const journal = new SqliteJournal(db);
    const job = journal.create(
      'dedupe',
      dedupeJournalRows(dedupe),
      { onConflict: 'fail', verify: true, ignorePerms: req.ignorePerms },
      [],
      0,
      jobId,
    );
    ctx.stderr(`filer: job ${job.id}: journaled ${dedupe.summary.files} actions; applying\n`);
    const { fault, copyFault } = faultWiring(opts.config);
    const ops = new LocalDedupeOps(opts.config.nativeScan ? undefined : null, copyFault);
    const code = reportApply(ctx, await applyDedupeJob(job, journal, ops, { fault, ...streamedFailures(ctx, job.id) }));
    return code !== ExitCode.Ok ? code : searched;
  } finally {
    db.close();
  }
}
