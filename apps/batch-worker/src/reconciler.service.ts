import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Reconciler, type ClusterContext } from '@filer/jobs';
import type { Logger } from '@filer/observability';
import { CLUSTER, LOG } from '@filer/worker-host';

/**
 * The batch worker owns finalizing, so it also owns the reconciler (one per batch worker; they
 * never fight). It starts after the worker module's runtime (Nest starts deeper modules first),
 * so only once Redis' settings are checked.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly reconciler: Reconciler;

  constructor(@Inject(CLUSTER) ctx: ClusterContext, @Inject(LOG) log: Logger) {
    this.reconciler = new Reconciler(ctx, { log });
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.reconciler.stop();
  }
}
