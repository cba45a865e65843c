import type { Job } from 'bullmq';
import type { ShardObserver } from '@filer/jobs';
import type { Logger, Metrics } from '@filer/observability';

const ids = (job: Job) => ({ jobId: (job.data as { jobId?: string }).jobId, shardId: job.id, shard: job.name, queue: job.queueName });

/** Logs and metrics of every shard this process runs. */
export function shardObserver(log: Logger, metrics: Metrics): ShardObserver {
  return {
    started(job) {
      log.info({ ...ids(job), attempt: job.attemptsMade + 1 }, 'shard started');
    },
    finished(job, result, seconds) {
      const outcome = result?.cancelled ? 'cancelled' : 'completed';
      metrics.shards.inc({ shard: job.name, outcome });
      metrics.shardSeconds.observe({ shard: job.name }, seconds);
      if (result !== undefined) {
        const c = result.counters;
        metrics.files.inc(c.entries);
        metrics.matched.inc(c.matched);
        metrics.bytes.inc(c.bytes);
        for (const [code, n] of Object.entries(c.errorsByCode)) metrics.errors.inc({ code }, n);
      }
      log.info(
        {
          ...ids(job),
          outcome,
          seconds: Math.round(seconds * 1000) / 1000,
          counters: result?.counters,
          spawned: result?.spawned,
          extra: result?.extra,
        },
        'shard finished',
      );
    },
    handedBack(job) {
      metrics.shards.inc({ shard: job.name, outcome: 'handed-back' });
      log.info({ ...ids(job) }, 'shard handed back: this worker is stopping, another one runs it');
    },
    failed(job, err) {
      if (job === undefined) {
        log.error({ err }, 'worker error');
        return;
      }
      // BullMQ has counted this attempt already: a shard with attempts left goes back to the queue.
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
      const outcome = final ? 'failed' : 'retried';
      metrics.shards.inc({ shard: job.name, outcome });
      if (job.processedOn !== undefined) metrics.shardSeconds.observe({ shard: job.name }, (Date.now() - job.processedOn) / 1000);
      log[final ? 'error' : 'warn'](
        { ...ids(job), outcome, attempt: job.attemptsMade, err },
        final ? 'shard failed' : 'shard failed, will retry',
      );
    },
  };
}
