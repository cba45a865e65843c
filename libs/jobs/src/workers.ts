import { WaitingError, Worker, type Job, type WorkerOptions } from 'bullmq';
import { FilerError } from '@filer/core';
import { runApplyShard, runHashShard, runUndoShard } from './batch-shards.js';
import { runPurgeShard } from './purge-phase.js';
import type { ClusterContext } from './cluster-context.js';
import type { ClusterConfig } from './config.js';
import { runFinalize } from './finalize.js';
import { QUEUE_PREFIX, QUEUES, type QueueName } from './queues.js';
import { checkPayload, handlersFor, JobName, upgradePayload, type JobData } from './job-contracts.js';
import { runScanShard } from './scan-shard.js';
import { recordShardFailure, toQueueError } from './shard-errors.js';
import { ShardHandedBack, type ShardControl } from './shard-control.js';
import type { ShardResult } from './shard-result.js';

/** Hooks for the worker apps' logs and metrics: the jobs library itself stays free of both. */
export interface ShardObserver {
  started?(job: Job): void;
  finished?(job: Job, result: ShardResult | undefined, seconds: number): void;
  failed?(job: Job | undefined, error: Error): void;
  /** A stopping worker put the shard back in the queue before finishing it (it runs again elsewhere). */
  handedBack?(job: Job): void;
}

/** What runs one job; its payload has been checked against the job's contract before it runs. */
type Processor<N extends JobName> = (ctx: ClusterContext, job: Job<JobData<N>>, control: ShardControl) => Promise<ShardResult | void>;

export interface JobHandler {
  name: JobName;
  run: (ctx: ClusterContext, job: Job, control: ShardControl) => Promise<ShardResult | void>;
}

/** Binds a processor to its job name: the processor must take that job's payload type. */
const handler = <N extends JobName>(name: N, run: Processor<N>): JobHandler => ({ name, run });

/** One handler per job name (checked at start-up against the queues a worker consumes: `handlersFor`). */
export const JOB_HANDLERS: readonly JobHandler[] = [
  handler(JobName.scan, runScanShard),
  handler(JobName.hash, runHashShard),
  handler(JobName.apply, runApplyShard),
  handler(JobName.undo, runUndoShard),
  handler(JobName.purge, runPurgeShard),
  handler(JobName.finalize, runFinalize),
];

const NOT_STOPPING: ShardControl = { stopping: () => false };

/**
 * The one wrapper around every processor: checks the payload against its job's contract, runs
 * the shard, and decides what BullMQ sees when it ends early. A shard a stopping worker hands
 * back goes to the wait list (no attempt counted, no stall); a failure is recorded with its code for the finalizer, and a
 * non-retryable FilerError becomes an UnrecoverableError, so it is not attempted again.
 */
export function shardProcessor(ctx: ClusterContext, queue: QueueName, observer: ShardObserver = {}, control = NOT_STOPPING) {
  const handlers = handlersFor(JOB_HANDLERS, [queue]);
  return async (job: Job, token?: string): Promise<ShardResult | void> => {
    const h = handlers.get(job.name);
    observer.started?.(job);
    const t0 = performance.now();
    try {
      // A name of no contract, or one whose contract sends it to another queue, finds no handler here.
      if (h === undefined) throw new FilerError('E_INVALID_ARGUMENT', `no handler for ${job.name} jobs on ${queue}`);
      job.data = upgradePayload(h.name, job.data);
      checkPayload(h.name, job);
      const result = await h.run(ctx, job, control);
      observer.finished?.(job, result ?? undefined, (performance.now() - t0) / 1000);
      return result;
    } catch (e) {
      if (e instanceof ShardHandedBack && token !== undefined) {
        await job.moveToWait(token);
        observer.handedBack?.(job);
        throw new WaitingError();
      }
      await recordShardFailure(ctx.redis, job, e);
      throw toQueueError(e);
    }
  };
}

/**
 * Stalled-job settings: a worker renews its lock every lockDuration/2; a job whose lock lapsed
 * (its worker was killed) is taken back after at most lockDuration + stalledInterval and run
 * again, up to maxStalledCount times. Shards are idempotent, so running one twice is safe.
 */
export function shardWorkerOptions(config: ClusterConfig) {
  return {
    concurrency: config.concurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
  } satisfies Partial<WorkerOptions>;
}

/** A BullMQ worker of one queue on its own connection (the in-process clusters of the tests; the worker apps use @nestjs/bullmq). */
export function startWorker(ctx: ClusterContext, queue: QueueName, observer: ShardObserver = {}, control = NOT_STOPPING): Worker {
  const opts: WorkerOptions = { connection: ctx.connect(), prefix: QUEUE_PREFIX, ...shardWorkerOptions(ctx.config) };
  const worker = new Worker(queue, shardProcessor(ctx, queue, observer, control), opts);
  worker.on('failed', (job, err) => observer.failed?.(job, err));
  worker.on('error', (err) => observer.failed?.(undefined, err));
  return worker;
}

/** The queues each worker app consumes. */
export const WORKER_QUEUES = {
  scanner: [QUEUES.scan],
  batch: [QUEUES.batch, QUEUES.finalize],
} as const;

/** The start-up check of a worker app: throws, naming every mismatch, unless each job name on its queues has exactly one handler. */
export function checkWorkerHandlers(queues: readonly QueueName[]): void {
  handlersFor(JOB_HANDLERS, queues);
}
