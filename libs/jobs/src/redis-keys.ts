/** Redis keys of job records and live progress (BullMQ's own keys live under the same prefix). */
export const keys = {
  job: (id: string) => `filer:job:${id}`,
  progress: (id: string) => `filer:job:${id}:progress`,
  cancelled: (id: string) => `filer:job:${id}:cancelled`,
  /** Why each shard of a job failed last (code, message), by shard id: the finalizer names the code. */
  failures: (id: string) => `filer:job:${id}:failures`,
  /** Set for a day once a job was deleted: its mirrored copy, should one be left, is not put back. */
  removed: (id: string) => `filer:job:${id}:removed`,
  /** Held by the one batch worker sweeping past-retention jobs at a time. */
  sweepLock: 'filer:jobs:sweep-lock',
  /** The child shards a scan shard whose split varies (S3) handed its remaining prefixes to (see walkShard in scan-shard.ts). */
  split: (id: string, shard: string) => `filer:job:${id}:split:${shard}`,
  index: 'filer:jobs',
  /** Ids of the jobs not in a final state: what the reconciler checks. */
  unfinished: 'filer:jobs:unfinished',
  /** Ids whose mirrored record could not be written (the reconciler writes them again). */
  uncopied: 'filer:jobs:uncopied',
  /** Set once the mirrored records were put back; gone after Redis lost its state. */
  restored: 'filer:jobs:restored',
  events: 'filer:events',
};
