import { runWorkerApp } from '@filer/jobs';

// Hash, apply and undo shards, and the finalizers that sum each phase and start the next.
await runWorkerApp('batch', process.env);
