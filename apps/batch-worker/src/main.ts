import { runWorkerApp } from '@filer/worker-host';
import { BatchWorkerModule } from './batch-worker.module.js';

// Hash, apply and undo shards, and the finalizers that sum each phase and start the next.
await runWorkerApp('batch', (host) => BatchWorkerModule.forRoot(host));
