import type { JobRecord, Journal, JournalAction } from './batch-types.js';
import type { ObjectDedupeOps } from './object-dedupe-ops.js';
import { sameVersion } from './file-identity.js';
import { BATCH, errnoOf, identity, type Outcome } from './action-outcome.js';
import { journalActions, SampledActions } from './journal-pages.js';
import type { ApplyOptions, ApplyReport } from './apply-job.js';
import type { FaultHook } from './fault-steps.js';

/** Objects copied or deleted at once within a batch (each a request or two of its own). */
const OBJECT_CONCURRENCY = 8;

const CHANGED = (what: string): Outcome => ({ state: 'failed', reason: `E_CHANGED: ${what} changed since it was planned; nothing done` });

/** An action whose copy now stands at its target (journaled as this job's) and whose key is to be deleted. */
type Placed = { state: 'placed'; targetId: NonNullable<Outcome['targetId']> };

/**
 * Applies (or resumes) a dedupe job on S3 (`remove`, `move-to`). Per batch, two phases: every
 * copy is checked and copied server-side to its target (the quarantine key, or under --move-to),
 * and those targets' identities journaled; then each copy's key is deleted, only while it is still
 * the version planned. A run after a crash decides from the objects and the journal: a target
 * whose identity is journaled is this job's; one not yet journaled is taken as this job's only
 * while the copy is unchanged and holds the same bytes.
 */
export async function applyObjectDedupeJob(
  job: JobRecord,
  journal: Journal,
  ops: ObjectDedupeOps,
  opts: ApplyOptions = {},
): Promise<ApplyReport> {
  const states = opts.retryFailed === true ? (['pending', 'failed'] as const) : (['pending'] as const);
  journal.setJobState(job.id, 'applying', undefined);
  opts.fault?.('after-journal');
  const failures = new SampledActions(opts.onFailure);
  let batch: JournalAction[] = [];
  const run = async (): Promise<void> => {
    for (const [a, o] of await runBatch(job, journal, ops, batch, opts.fault)) {
      Object.assign(a, o);
      if (a.state === 'failed') failures.add(a);
    }
    batch = [];
    await ops.release?.();
  };
  for (const a of journalActions(journal, job.id, { states })) {
    batch.push(a);
    if (batch.length >= BATCH) await run();
  }
  if (batch.length > 0) await run();
  const anyFailed = journal.get(job.id)!.counts.failed > 0;
  journal.setJobState(job.id, anyFailed ? 'failed' : 'completed', undefined);
  return { job: journal.get(job.id)!, failures: failures.value };
}

async function runBatch(
  job: JobRecord,
  journal: Journal,
  ops: ObjectDedupeOps,
  batch: JournalAction[],
  fault?: FaultHook,
): Promise<Map<JournalAction, Outcome>> {
  const outcomes = new Map<JournalAction, Outcome>();
  const placed: JournalAction[] = [];
  await eachAtOnce(batch, async (a) => {
    const r = await settle(() => placeOne(ops, a, fault));
    if (r.state === 'placed') {
      a.targetId = r.targetId;
      placed.push(a);
    } else outcomes.set(a, r);
  });
  // The targets are journaled as this job's before any copy's key is deleted.
  journal.record(job.id, [
    ...placed.map((a) => ({ seq: a.seq, state: a.state, targetId: a.targetId })),
    ...[...outcomes].map(([a, o]) => ({ seq: a.seq, ...o })),
  ]);
  fault?.('after-commit');
  const finished = new Map<JournalAction, Outcome>();
  await eachAtOnce(placed, async (a) => {
    finished.set(
      a,
      await settle(async () => {
        fault?.('before-unlink');
        try {
          await ops.unlinkIf(a.source, a.sourceId!, 'version');
        } catch (e) {
          if ((e as { code?: string }).code !== 'E_CHANGED') throw e;
          return dropStaleCopy(ops, a);
        }
        fault?.('after-unlink');
        return { state: 'done', targetId: a.targetId };
      }),
    );
  });
  journal.record(
    job.id,
    [...finished].map(([a, o]) => ({ seq: a.seq, ...o })),
  );
  for (const [a, o] of finished) outcomes.set(a, o);
  return outcomes;
}

/**
 * The copy's key changed after its object was copied to the target: the key is left as it is, and
 * the target — a copy of a version that is no longer there, this job's (journaled) — is deleted, so
 * nothing is left of the action (kept, with its identity journaled, when that delete fails).
 */
async function dropStaleCopy(ops: ObjectDedupeOps, a: JournalAction): Promise<Outcome> {
  const why = `E_CHANGED: ${a.source} changed since it was copied to ${a.target}`;
  try {
    await ops.unlinkIf(a.target, a.targetId!, 'version');
  } catch (e) {
    return { state: 'failed', reason: `${why}; both kept (the copy not removed: ${errnoOf(e)})`, targetId: a.targetId };
  }
  return { state: 'failed', reason: `${why}; left as it is, that copy removed` };
}

/** Checks one action and copies its object to the target; or finds that an earlier run did. */
async function placeOne(ops: ObjectDedupeOps, a: JournalAction, fault?: FaultHook): Promise<Outcome | Placed> {
  const step = a.dedupe!;
  const planned = a.sourceId!;
  const [c, q] = await Promise.all([ops.stat(a.source), ops.stat(a.target)]);
  if (q !== undefined) {
    const ours =
      a.targetId !== undefined
        ? sameVersion(q, a.targetId)
        : c !== undefined && sameVersion(c, planned) && (await ops.sameBytes({ uri: a.source, id: c }, { uri: a.target, id: q }));
    if (!ours) return { state: 'failed', reason: `E_CHANGED: ${a.target} holds an object this job did not put there; nothing done` };
    // An earlier run copied it: the copy's key may be gone already.
    return c === undefined ? { state: 'done', targetId: identity(q) } : { state: 'placed', targetId: identity(q) };
  }
  if (c === undefined || !sameVersion(c, planned)) return CHANGED(`the copy ${a.source}`);
  const k = await ops.stat(step.kept);
  if (k === undefined || !sameVersion(k, step.keptId)) return CHANGED(`the kept object ${step.kept}`);
  if (!(await ops.sameBytes({ uri: step.kept, id: k }, { uri: a.source, id: c })))
    return { state: 'failed', reason: `E_CHANGED: ${a.source} no longer holds the same bytes as ${step.kept}; nothing done` };
  const placedId = await ops.copyIf(a.source, a.target, planned);
  fault?.('after-link');
  return { state: 'placed', targetId: identity(placedId) };
}

async function settle<T>(f: () => Promise<T | Outcome>): Promise<T | Outcome> {
  try {
    return await f();
  } catch (e) {
    return { state: 'failed', reason: errnoOf(e) };
  }
}

/** Runs `f` on every item, OBJECT_CONCURRENCY at a time. */
export async function eachAtOnce<T>(items: readonly T[], f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await f(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(OBJECT_CONCURRENCY, items.length) }, worker));
}
