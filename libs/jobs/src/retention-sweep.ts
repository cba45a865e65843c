import { randomUUID } from 'node:crypto';
import type { ClusterContext } from './cluster-context.js';
import type { JobRecord } from './job-record.js';
import { hasPendingFinalizer, type ReconcilerLog } from './reconciler.js';
import { keys } from './redis-keys.js';
import { createdAtOfId, deleteRefusal, isPastRetention, retentionOf, shortestRetentionMs } from './retention.js';

/** How often each batch worker tries to sweep (one at a time across the cluster holds the lock). */
export const SWEEP_INTERVAL_MS = 10 * 60_000;

export type DeleteOutcome = { status: 'deleted' } | { status: 'not-found' } | { status: 'conflict'; state: string; reason: string };

// Releases the lock only if this sweeper still holds it. KEYS: lock. ARGV: token.
const UNLOCK_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Removes one finished job as `rec` shows it: record (Redis and its mirrored copy) first, then its
 * directory of parts and journals. Refused while the job is not final, while a finalizer of it
 * may still run (a cancelled job's shards stopping would write parts again), and while it can
 * be undone unless `force`; and when the record changed since `rec` was read.
 */
export async function removeJob(ctx: ClusterContext, rec: JobRecord, force: boolean): Promise<DeleteOutcome> {
  const refusal = deleteRefusal(rec, force);
  if (refusal !== undefined) return { status: 'conflict', state: rec.state, reason: refusal };
  if (await hasPendingFinalizer(ctx, rec.id))
    return {
      status: 'conflict',
      state: rec.state,
      reason: `job ${rec.id} is ${rec.state} but its shards are still stopping: try again shortly`,
    };
  if (!(await ctx.store.remove(rec)))
    return { status: 'conflict', state: rec.state, reason: `job ${rec.id} changed while it was being deleted: try again` };
  await ctx.results.remove(rec.id);
  return { status: 'deleted' };
}

/** `DELETE /v1/jobs/:id`: removes a finished job now, whatever its retention. */
export async function deleteJob(ctx: ClusterContext, id: string, opts: { force?: boolean } = {}): Promise<DeleteOutcome> {
  const rec = await ctx.store.get(id);
  if (rec === undefined) return { status: 'not-found' };
  return removeJob(ctx, rec, opts.force === true);
}

export interface SweepReport {
  /** Jobs past their retention, removed. */
  removed: string[];
  /** Directories without a record left (a record expired or a delete interrupted), removed. */
  orphans: string[];
  /** False when another worker held the sweep. */
  swept: boolean;
}

/**
 * The periodic retention sweep, run by every batch worker beside its reconciler. Walks the job
 * directories oldest first (job ids begin with their creation time) and stops at the first one
 * too young to be due; removes each finished job past its retention (retention.ts) and each
 * directory older than the retention whose record is gone. A lock in Redis lets one worker sweep
 * at a time; should two overlap anyway (a sweep outlasting the lock), each removal is a
 * compare-and-delete on the record and removing a directory twice is harmless.
 */
export class RetentionSweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly opts: { intervalMs?: number; log?: ReconcilerLog } = {},
  ) {}

  start(): void {
    const tick = (): void => {
      this.running = this.sweepOnce()
        .catch((err: unknown) => this.opts.log?.warn({ err }, 'the retention sweep failed; trying again at the next interval'))
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.opts.intervalMs ?? SWEEP_INTERVAL_MS);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async sweepOnce(now = Date.now()): Promise<SweepReport> {
    const report: SweepReport = { removed: [], orphans: [], swept: false };
    const { redis, config } = this.ctx;
    if (redis.status !== 'ready') return report;
    const token = randomUUID();
    const lockMs = Math.max(60_000, this.opts.intervalMs ?? SWEEP_INTERVAL_MS);
    if ((await redis.set(keys.sweepLock, token, 'PX', lockMs, 'NX')) === null) return report;
    try {
      report.swept = true;
      const policy = retentionOf(config);
      const dueBefore = now - shortestRetentionMs(policy);
      const orphanBefore = now - policy.days * 86_400_000;
      for (const id of (await this.ctx.copies.ids()).reverse()) {
        if (createdAtOfId(id) > dueBefore) break;
        const rec = await this.ctx.store.get(id);
        if (rec === undefined) {
          if (createdAtOfId(id) > orphanBefore) continue;
          await this.ctx.results.remove(id);
          report.orphans.push(id);
        } else if (isPastRetention(rec, policy, now) && (await removeJob(this.ctx, rec, true)).status === 'deleted') {
          report.removed.push(id);
        }
      }
    } finally {
      await redis.eval(UNLOCK_SCRIPT, 1, keys.sweepLock, token);
    }
    if (report.removed.length + report.orphans.length > 0)
      this.opts.log?.info({ removed: report.removed.length, orphans: report.orphans.length }, 'removed jobs past their retention');
    return report;
  }
}
