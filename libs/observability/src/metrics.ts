import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The cluster's metrics, one registry per process. Names are documented in docs/operations.md;
 * every process exposes the ones it updates (the API: jobs and queue depth; workers: shards,
 * files, bytes, errors, durations).
 */
export function createMetrics(app: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: 'filer_process_' });
  return {
    registry,
    jobs: new Gauge({
      name: 'filer_jobs',
      help: 'Jobs by kind and state (sampled from the job index)',
      labelNames: ['kind', 'state'],
      registers: [registry],
    }),
    jobsSubmitted: new Counter({
      name: 'filer_jobs_submitted_total',
      help: 'Jobs accepted by this API replica',
      labelNames: ['kind'],
      registers: [registry],
    }),
    shards: new Counter({
      name: 'filer_shards_processed_total',
      help: 'Shards processed, by queue job name and outcome',
      labelNames: ['shard', 'outcome'],
      registers: [registry],
    }),
    // Counted by the worker whose stalled-job check took the shard back, not by the one that died.
    stalled: new Counter({
      name: 'filer_shards_stalled_total',
      help: 'Shards taken back from a worker that stopped renewing their lock (killed, or its event loop blocked): they run again',
      labelNames: ['queue'],
      registers: [registry],
    }),
    shardSeconds: new Histogram({
      name: 'filer_shard_duration_seconds',
      help: 'Time to process one shard',
      labelNames: ['shard'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    files: new Counter({ name: 'filer_files_scanned_total', help: 'Directory entries listed by scan shards', registers: [registry] }),
    matched: new Counter({ name: 'filer_files_matched_total', help: 'Entries that matched a job filter', registers: [registry] }),
    bytes: new Counter({ name: 'filer_bytes_scanned_total', help: 'Bytes of matched files', registers: [registry] }),
    errors: new Counter({ name: 'filer_errors_total', help: 'Per-path errors, by code', labelNames: ['code'], registers: [registry] }),
    redisSettingsUnreadable: new Gauge({
      name: 'filer_redis_settings_unreadable',
      help: '1 when Redis refused both INFO and CONFIG GET, so its maxmemory-policy (which must be noeviction) could not be checked',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'filer_queue_depth',
      help: 'Jobs in each queue by state',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    httpSeconds: new Histogram({
      name: 'filer_http_request_duration_seconds',
      help: 'API request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
