import { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { resolveAllowedRoots } from '@filer/storage';
import type { ClusterConfig } from './config.js';
import type { JobRecords } from './job-records.js';
import { RedisJobRecords } from './job-store.js';
import { ALL_QUEUES, QUEUE_PREFIX, type QueueName } from './queues.js';
import type { ItemOutcomes } from './item-outcomes.js';
import { openJobDatabase, type JobDatabase } from './pg/job-database.js';
import { PgItemOutcomes } from './pg/pg-item-outcomes.js';
import { PgRecordCopies } from './pg/pg-record-copies.js';
import type { RecordCopies } from './record-copies.js';
import { recordMirror } from './record-mirror.js';
import { retentionOf } from './retention.js';
import { DirResultsStore, ObjectResultsStore, type ResultObjects, type ResultsStore } from '@filer/storage/results';
import { formatS3Uri } from '@filer/storage';
import { s3Access } from './s3-access.js';

/** Everything the API and the workers share: connections, queues, stores. One per process. */
export interface ClusterContext {
  config: ClusterConfig;
  redis: Redis;
  /** Job records: Redis, each with a durable copy (`copies`). */
  store: JobRecords;
  /** The durable copies of the records: PostgreSQL when FILER_DATABASE_URL is set, else beside the results (directory or S3). */
  copies: RecordCopies;
  /** Per-item outcomes of batch jobs, when there is a job database. */
  items: ItemOutcomes | undefined;
  /** The job database (FILER_DATABASE_URL), if any. */
  db: JobDatabase | undefined;
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
  const db = config.databaseUrl === undefined ? undefined : openJobDatabase(config.databaseUrl);
  // Migrate at start-up rather than on the first query; a failure (the database still starting) is retried on the next use.
  db?.ready().catch(() => undefined);
  // Without a job database, the copies live beside the results: files in the results directory, or objects on S3.
  const copies = db === undefined ? recordMirror(results) : new PgRecordCopies(db);
  return {
    config,
    redis,
    store: new RedisJobRecords(redis, copies, retentionOf(config)),
    copies,
    items: db === undefined ? undefined : new PgItemOutcomes(db),
    db,
    results,
    queues,
    flows,
    allowedRoots: resolveAllowedRoots(config.allowedRoots),
    connect,
    async close() {
      await Promise.allSettled([...Object.values(queues).map((q) => q.close()), flows.close()]);
      for (const c of connections) c.disconnect();
      await db?.close();
    },
  };
}
