/** Redis keys of job records and live progress (BullMQ's own keys live under the same prefix). */
export const keys = {
  job: (id: string) => `filer:job:${id}`,
  progress: (id: string) => `filer:job:${id}:progress`,
  cancelled: (id: string) => `filer:job:${id}:cancelled`,
  index: 'filer:jobs',
  events: 'filer:events',
};
