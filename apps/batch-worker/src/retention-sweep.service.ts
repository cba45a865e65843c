import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { RetentionSweep, type ClusterContext } from '@filer/jobs';
import type { Logger } from '@filer/observability';
import { CLUSTER, LOG } from '@filer/worker-host';

/**
 * The retention sweep, beside the reconciler: every batch worker runs one, and a lock in Redis
 * lets one of them sweep at a time (FILER_RETENTION_DAYS, FILER_RETENTION_UNDOABLE_DAYS).
 */
@Injectable()
export class RetentionSweepService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly sweep: RetentionSweep;

  constructor(@Inject(CLUSTER) ctx: ClusterContext, @Inject(LOG) log: Logger) {
    this.sweep = new RetentionSweep(ctx, { log });
  }

  onApplicationBootstrap(): void {
    this.sweep.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sweep.stop();
  }
}
