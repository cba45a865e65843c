import { runWorkerApp } from '@filer/worker-host';
import { ScannerWorkerModule } from './scanner-worker.module.js';

// Scan shards: walk a directory within the shard budget, write the matches, fan the rest out.
await runWorkerApp('scanner', (host) => ScannerWorkerModule.forRoot(host));
