/** Injection tokens of what a worker app shares between its providers (one of each per process). */
export const WORKER_CONFIG = Symbol('WorkerAppConfig');
export const WORKER_APP = Symbol('WorkerAppName');
export const CLUSTER = Symbol('ClusterContext');
export const LOG = Symbol('Logger');
export const METRICS = Symbol('Metrics');
/** The app's processors, for the runtime that starts them once Redis is known to be safe. */
export const SHARD_PROCESSORS = Symbol('ShardProcessors');
