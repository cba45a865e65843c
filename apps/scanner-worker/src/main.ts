import { runWorkerApp } from '@filer/jobs';

// Scan shards: walk a directory within the shard budget, write the matches, fan the rest out.
await runWorkerApp('scanner', process.env);
