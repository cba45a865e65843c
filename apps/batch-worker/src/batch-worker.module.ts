import { Module, type DynamicModule } from '@nestjs/common';
import { QUEUES } from '@filer/jobs';
import { ShardProcessor, WorkerModule, type WorkerHostOptions } from '@filer/worker-host';
import { ReconcilerService } from './reconciler.service.js';
import { RetentionSweepService } from './retention-sweep.service.js';

/** The batch queue's processor: hash, apply and undo shards. */
export class BatchProcessor extends ShardProcessor {}

/** The finalize queue's processor: each phase's finalizer sums its shards and starts the next phase. */
export class FinalizeProcessor extends ShardProcessor {}

/** The batch worker: the worker module with the batch and finalize queues' processors, the reconciler and the retention sweep. */
@Module({})
export class BatchWorkerModule {
  static forRoot(host: WorkerHostOptions): DynamicModule {
    const processors = { [QUEUES.batch]: BatchProcessor, [QUEUES.finalize]: FinalizeProcessor };
    return {
      module: BatchWorkerModule,
      imports: [WorkerModule.forRoot({ ...host, processors })],
      providers: [ReconcilerService, RetentionSweepService],
    };
  }
}
