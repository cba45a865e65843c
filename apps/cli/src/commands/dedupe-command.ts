import { ExitCode } from '@filer/core';
import { applyDedupeJob, planDedupeGroups, type DedupeGroupOutcome, type JournalAction } from '@filer/engine';
import { eachDescribedGroup, LocalDedupeOps } from '@filer/storage';
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
  const scratch = DedupeScratch.besideState(opts.statePath ?? plan.cachePath);
  try {
    // One pass, a group at a time: described, planned, printed and (with --apply) journaled.
    const out = new DedupePlanWriter(ctx, plan.format, req.apply, scratch);
    const groups = planDedupeGroups(eachDescribedGroup(found.groups, plan.roots, req.roots), { ...req, jobId }, scratch);
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
    return await applyPlan(first.value, rows, out, req, ctx, opts, jobId, searched);
  } finally {
    scratch.close();
  }
}

async function applyPlan(
  first: JournalRow,
  rest: Iterator<JournalRow>,
  out: DedupePlanWriter,
  req: DedupeRequest,
  ctx: CliContext,
  opts: { config: CliConfig; statePath?: string },
  jobId: string,
  searched: number,
): Promise<number> {
  const db = openStateDb(opts.statePath ?? defaultStatePath());
  try {
    const journal = new SqliteJournal(db);
    const actions = (function* () {
      yield first;
      for (let r = rest.next(); !r.done; r = rest.next()) yield r.value;
    })();
    const job = journal.create('dedupe', actions, { onConflict: 'fail', verify: true, ignorePerms: req.ignorePerms }, [], 0, jobId);
    out.end();
    ctx.stderr(`filer: job ${job.id}: journaled ${out.summary.files} actions; applying\n`);
    const { fault, copyFault } = faultWiring(opts.config);
    const ops = new LocalDedupeOps(opts.config.nativeScan ? undefined : null, copyFault);
    const code = reportApply(ctx, await applyDedupeJob(job, journal, ops, { fault, ...streamedFailures(ctx, job.id) }));
    return code !== ExitCode.Ok ? code : searched;
  } finally {
    db.close();
  }
}

type JournalRow = Omit<JournalAction, 'seq' | 'state'>;

/** The journal's rows of each planned group, printing each group as it passes. */
function* journalRows(groups: Iterable<DedupeGroupOutcome>, out: DedupePlanWriter): Generator<JournalRow> {
  for (const o of groups) {
    out.add(o);
    const g = o.plan;
    if (g === undefined) continue;
    const { path: kept, dev, ino, size, mtimeNs } = g.kept;
    const keptId = { dev, ino, size, mtimeNs };
    for (const c of g.copies)
      yield {
        source: c.copy.path,
        target: c.target,
        size: c.copy.size,
        overwrite: false,
        sourceId: { dev: c.copy.dev, ino: c.copy.ino, size: c.copy.size, mtimeNs: c.copy.mtimeNs },
        dedupe: { op: c.op, kept, keptId, ...(c.linkText === undefined ? {} : { linkText: c.linkText }) },
      };
  }
}
