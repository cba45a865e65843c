import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import type { JobRecord, JobState } from './job-record.js';
import { QUEUES } from './queues.js';
import { keys } from './redis-keys.js';
import type { ShardFailure } from './shard-errors.js';

/** The code of a job whose queued work Redis lost (a restart without persistence, FLUSHALL, eviction). */
export const QUEUE_STATE_LOST = 'E_QUEUE_STATE_LOST';

/** How often the batch worker reconciles records with the queues. */
export const RECONCILE_INTERVAL_MS = 5_000;
/**
 * How long a job must be seen with no work queued, its record unchanged, before it is failed.
 * Work is queued right after a record changes (submit, apply), and writing a big plan's apply
 * parts comes in between: this is the margin for that. With the interval it bounds the time to
 * fail a lost job to about 25 s (records Redis lost and the mirror put back fail at once).
 */
export const LOST_AFTER_MS = 20_000;

/** Every phase ends in one finalizer whose id derives from the job's: `<job>-final-<phase>`. */
const FINALIZED_PHASES = ['scan', 'hash', 'apply', 'undo', 'purge'] as const;
/** BullMQ states in which a finalizer will still run (or runs now). */
const PENDING = new Set(['waiting', 'waiting-children', 'active', 'delayed', 'prioritized', 'paused']);

/** Whether one of the job's finalizers will still run: its shards may still be writing (a cancelled job's stopping, say). */
export async function hasPendingFinalizer(ctx: Pick<ClusterContext, 'queues'>, id: string): Promise<boolean> {
  for (const phase of FINALIZED_PHASES) if (PENDING.has(await ctx.queues[QUEUES.finalize].getJobState(`${id}-final-${phase}`))) return true;
  return false;
}
/** Unfinished states whose work is on the queues ("planned" waits for a person, not a shard). */
const QUEUED_STATES: readonly JobState[] = ['queued', 'running', 'applying', 'undoing', 'purging'];

export interface ReconcilerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ReconcileReport {
  /** Records Redis had lost, put back from the results volume. */
  restored: string[];
  /** Jobs failed by this pass, with the code. */
  failed: { id: string; code: string }[];
}

type Liveness = { kind: 'pending' } | { kind: 'failed'; finalizer: string } | { kind: 'gone' };

/**
 * Makes every job end in a final state even when Redis loses its queues: at start-up and every
 * few seconds it puts back records Redis lost (from their mirrored copies), then looks at each
 * unfinished job's finalizers. A job whose finalizer failed for good fails with that finalizer's
 * code; a job with no finalizer left to run fails with E_QUEUE_STATE_LOST — at once when its
 * record had to be put back (its queued work predates the loss), otherwise once it has been seen
 * so, unchanged, for LOST_AFTER_MS. Several reconcilers (one per batch worker) can run: a
 * transition applies only to the revision of the record that was judged, so they never fight.
 * Jobs are failed, not re-queued: see `POST /v1/jobs/:id/resume` for finishing an apply.
 */
export class Reconciler {
  private readonly suspects = new Map<string, { rev: number; since: number }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly opts: { intervalMs?: number; lostAfterMs?: number; log?: ReconcilerLog } = {},
  ) {}

  /** Runs a pass now and then every interval (passes never overlap). */
  start(): void {
    const tick = (): void => {
      this.running = this.reconcileOnce()
        .catch((err: unknown) => this.opts.log?.warn({ err }, 'reconciling job records failed; trying again'))
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.opts.intervalMs ?? RECONCILE_INTERVAL_MS);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass: put back lost records, repair mirrored copies, fail jobs whose work is gone. */
  async reconcileOnce(now = Date.now()): Promise<ReconcileReport> {
    const report: ReconcileReport = { restored: [], failed: [] };
    // A command sent while the connection is down waits for it: skip this pass instead.
    if (this.ctx.redis.status !== 'ready') return report;
    const { store } = this.ctx;
    report.restored = await store.restoreLost();
    if (report.restored.length > 0)
      this.opts.log?.warn({ jobs: report.restored.length }, 'Redis had lost job records: put back from the results volume');
    await store.repairCopies();
    const restored = new Set(report.restored);
    const ids = new Set(await store.unfinished());
    for (const id of this.suspects.keys()) if (!ids.has(id)) this.suspects.delete(id);
    for (const id of ids) {
      const rec = await store.get(id);
      if (rec === undefined || !QUEUED_STATES.includes(rec.state)) {
        this.suspects.delete(id);
        continue;
      }
      const live = await this.liveness(id);
      if (live.kind === 'pending') {
        this.suspects.delete(id);
        continue;
      }
      if (live.kind === 'failed') {
        const f = await this.finalizerFailure(id, live.finalizer);
        if (await this.fail(rec, f.code, `the ${rec.phase} phase's finalizer failed after every retry: ${f.message}`))
          report.failed.push({ id, code: f.code });
        continue;
      }
      const seen = this.suspects.get(id);
      const rev = rec.rev ?? 0;
      if (!restored.has(id) && (seen === undefined || seen.rev !== rev || now - seen.since < (this.opts.lostAfterMs ?? LOST_AFTER_MS))) {
        if (seen === undefined || seen.rev !== rev) this.suspects.set(id, { rev, since: now });
        continue;
      }
      const message =
        `queue-state-lost: Redis no longer holds this job's ${rec.phase} shards (restarted without persistence, flushed or evicting); ` +
        `files already acted on stay as the per-shard journals under the results directory record them`;
      if (await this.fail(rec, QUEUE_STATE_LOST, message)) report.failed.push({ id, code: QUEUE_STATE_LOST });
      this.suspects.delete(id);
    }
    return report;
  }

  /** Whether any of the job's finalizers will still run, failed for good, or is gone. */
  private async liveness(id: string): Promise<Liveness> {
    const queue = this.ctx.queues[QUEUES.finalize];
    let failed: string | undefined;
    for (const phase of FINALIZED_PHASES) {
      const finalizer = `${id}-final-${phase}`;
      const state = await queue.getJobState(finalizer);
      if (PENDING.has(state)) return { kind: 'pending' };
      if (state === 'failed') failed = finalizer;
    }
    return failed === undefined ? { kind: 'gone' } : { kind: 'failed', finalizer: failed };
  }

  private async finalizerFailure(id: string, finalizer: string): Promise<ShardFailure> {
    const text = await this.ctx.redis.hget(keys.failures(id), finalizer);
    if (text !== null) return JSON.parse(text) as ShardFailure;
    const job = await this.ctx.queues[QUEUES.finalize].getJob(finalizer);
    return { code: 'E_SHARD_FAILED', message: job?.failedReason ?? 'no reason recorded' };
  }

  /** Fails the job only as it was judged (same state and revision): another reconciler or a late finalizer wins otherwise. */
  private async fail(rec: JobRecord, code: string, message: string): Promise<boolean> {
    const done = await this.ctx.store.update(
      rec.id,
      (r) => {
        r.state = 'failed';
        r.code = code;
        r.message = message;
        r.finishedAt = new Date().toISOString();
      },
      [rec.state],
      (r) => (r.rev ?? 0) === (rec.rev ?? 0),
    );
    if (done === undefined) return false;
    this.opts.log?.error({ jobId: rec.id, code, from: rec.state, phase: rec.phase }, `job failed by the reconciler: ${message}`);
    await publishEvent(this.ctx.redis, { id: rec.id, type: 'state', state: 'failed', phase: rec.phase });
    return true;
  }
}
