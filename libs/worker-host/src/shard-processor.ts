import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { shardProcessor, type QueueName, type ShardResult } from '@filer/jobs';
import { WorkerState } from './worker-state.js';

type Dispatch = (job: Job, token?: string) => Promise<ShardResult | void>;

/**
 * The base of every worker app's `@Processor`: each job goes through the job contracts
 * (`shardProcessor`: payload checked, the one handler of its name run, a non-retryable
 * FilerError turned into an UnrecoverableError). Its worker is created by @nestjs/bullmq without
 * running (`autorun: false`); the runtime starts it once Redis is known to be safe.
 */
@Injectable()
export abstract class ShardProcessor extends WorkerHost {
  private dispatch: Dispatch | undefined;

  constructor(@Inject(WorkerState) protected readonly state: WorkerState) {
    super();
  }

  /** Builds the dispatch of this worker's queue (checking its handlers) and starts taking shards. */
  start(): void {
    const { ctx, observer, control } = this.state;
    this.dispatch = shardProcessor(ctx, this.worker.name as QueueName, observer, control);
    this.worker.run().catch((err: Error) => observer.failed?.(undefined, err));
  }

  process(job: Job, token?: string): Promise<ShardResult | void> {
    if (this.dispatch === undefined) throw new Error(`${this.worker.name}: a shard arrived before the worker was started`);
    return this.dispatch(job, token);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    this.state.observer.failed?.(job, err);
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.state.observer.failed?.(undefined, err);
  }

  @OnWorkerEvent('stalled')
  onStalled(shardId: string): void {
    const queue = this.worker.name;
    this.state.metrics.stalled.inc({ queue });
    this.state.log.warn({ shardId, queue }, 'shard stalled (its worker stopped renewing the lock): queued again');
  }
}
