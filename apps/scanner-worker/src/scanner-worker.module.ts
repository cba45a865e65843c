import { Module, type DynamicModule } from '@nestjs/common';
import { QUEUES } from '@filer/jobs';
import { ShardProcessor, WorkerModule, type WorkerHostOptions } from '@filer/worker-host';

/** The scan queue's processor: scan shards, through the job contracts (see ShardProcessor). */
export class ScanProcessor extends ShardProcessor {}

/** The scanner worker: the worker module with the scan queue's processor. */
@Module({})
export class ScannerWorkerModule {
  static forRoot(host: WorkerHostOptions): DynamicModule {
    return { module: ScannerWorkerModule, imports: [WorkerModule.forRoot({ ...host, processors: { [QUEUES.scan]: ScanProcessor } })] };
  }
}
