import { Inject, Injectable } from '@nestjs/common';
import type { ClusterContext, ShardControl, ShardObserver } from '@filer/jobs';
import type { Logger, Metrics } from '@filer/observability';
import { shardObserver } from './shard-observer.js';
import { CLUSTER, LOG, METRICS } from './tokens.js';

/** What a worker app's processors and its runtime share: the cluster, logs, metrics, and whether it is stopping. */
@Injectable()
export class WorkerState {
  /** Set when a shutdown begins: scan shards hand themselves back (see ShardControl), readiness says so. */
  closing = false;
  readonly control: ShardControl = { stopping: () => this.closing };
  readonly observer: ShardObserver;

  constructor(
    @Inject(CLUSTER) readonly ctx: ClusterContext,
    @Inject(LOG) readonly log: Logger,
    @Inject(METRICS) readonly metrics: Metrics,
  ) {
    this.observer = shardObserver(log, metrics);
  }
}
