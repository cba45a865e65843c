import { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { resolveAllowedRoots } from '@filer/storage';
import type { ClusterConfig } from './config.js';
import type { JobRecords } from './job-records.js';
import { RedisJobRecords } from './job-store.js';
import { ALL_QUEUES, QUEUE_PREFIX, type QueueName } from './queues.js';
import { recordMirror } from './record-mirror.js';
import { retentionOf } from './retention.js';
import { DirResultsStore, ObjectResultsStore, type ResultObjects, type ResultsStore } from '@filer/storage/results';
import { formatS3Uri } from '@filer/storage';
import { s3Access } from './s3-access.js';

/** Everything the API and the workers share: connections, queues, stores. One per process. */
export interface ClusterContext {
  config: ClusterConfig;
  redis: Redis;
  /** Job records: Redis, each mirrored beside the results. */
  store: JobRecords;
  results: ResultsStore;
  queues: Record<QueueName, Queue>;
  flows: FlowProducer;
  /** The allowed roots with symlinks resolved. */
  allowedRoots: string[];
  /** A fresh connection for a blocking client (a Worker, a subscriber). */
  connect(): Redis;
  close(): Promise<void>;
}

/**
 * The results port chosen once: objects under FILER_RESULTS (the AWS SDK loaded on first use, with
 * FILER_S3_* settings), else the shared directory FILER_RESULTS_DIR.
 */
export function openResultsStore(config: ClusterConfig): ResultsStore {
  const loc = config.resultsS3;
  if (loc === undefined) return new DirResultsStore(config.resultsDir);
  let objects: Promise<ResultObjects> | undefined;
  const open = (): Promise<ResultObjects> =>
    (objects ??= s3Access()
      .then((a) => new a.s3.S3ResultObjects(a.client, loc))
      .catch((e: unknown) => {
        objects = undefined;
        throw e;
      }));
  return new ObjectResultsStore(open, config.resultsDir, formatS3Uri(loc));
}

export function openClusterContext(config: ClusterConfig): ClusterContext {
  const connections: Redis[] = [];
  // BullMQ needs maxRetriesPerRequest null on connections it blocks on; retry forever while Redis restarts.
  const connect = (): Redis => {
    const r = new Redis(config.redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
    r.on('error', () => undefined); // reconnects on its own; readiness reports the outage
    connections.push(r);
    return r;
  };
  const redis = connect();
  const queues = Object.fromEntries(
    ALL_QUEUES.map((name) => [name, new Queue(name, { connection: redis, prefix: QUEUE_PREFIX })]),
  ) as Record<QueueName, Queue>;
  const flows = new FlowProducer({ connection: redis, prefix: QUEUE_PREFIX });
  const results = openResultsStore(config);
  return {
    config,
    redis,
    store: new RedisJobRecords(redis, recordMirror(results), retentionOf(config)),
    results,
    queues,
    flows,
    allowedRoots: resolveAllowedRoots(config.allowedRoots),
    connect,
    async close() {
      await Promise.allSettled([...Object.values(queues).map((q) => q.close()), flows.close()]);
      for (const c of connections) c.disconnect();
    },
  };
}
