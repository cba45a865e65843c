import { ExitCode } from '@filer/core';
import { dedupeJournalRows, planDedupe } from '@filer/engine';
import { openDedupeStore } from '@filer/storage';
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
  const { fault, copyFault } = faultWiring(opts.config);
  // Local files or S3 objects, decided once from the roots (checkRootKinds refused a mix).
  const store = await openDedupeStore(plan.roots, { native: opts.config.nativeScan, copyFault });
  try {
    const jobId = req.apply ? newJobId() : '<job>';
    const dedupe = planDedupe(await store.describe(found.groups, plan.roots, req.roots), { ...req, jobId });
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
      const code = reportApply(ctx, await store.apply(job, journal, { fault, ...streamedFailures(ctx, job.id) }));
      return code !== ExitCode.Ok ? code : searched;
    } finally {
      db.close();
    }
  } finally {
    store.close();
  }
}
