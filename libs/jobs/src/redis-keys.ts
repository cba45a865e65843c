/** Redis keys of job records and live progress (BullMQ's own keys live under the same prefix). */
export const keys = {
  job: (id: string) => `filer:job:${id}`,
  progress: (id: string) => `filer:job:${id}:progress`,
  cancelled: (id: string) => `filer:job:${id}:cancelled`,
  /** The child shards an S3 scan shard handed its remaining prefixes to (see scan-s3-shard.ts). */
  split: (id: string, shard: string) => `filer:job:${id}:split:${shard}`,
  index: 'filer:jobs',
  events: 'filer:events',
};
