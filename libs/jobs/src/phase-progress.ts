// Live progress of the phases after the scan (hash, apply, undo): the finalizer that starts a
// phase sets its totals, every shard adds what it did when it finishes and nudges the event
// stream. The numbers live in the job's progress hash beside the scan's counts; JobStore.getLive
// reads them into `JobRecord.progress` while the phase runs.
import type { Redis } from 'ioredis';
import { publishEvent } from './events.js';
import { keys } from './redis-keys.js';
import type { PhaseProgress } from '@filer/engine';

/** What a phase has done of its total, in files and bytes: the engine's PhaseProgress. */
export type { PhaseProgress } from '@filer/engine';

/** Sets a phase's totals and zeroes what is done (a phase started again starts from nothing). */
export async function startPhaseProgress(redis: Redis, jobId: string, phase: string, files: number, bytes: number): Promise<void> {
  await redis.hset(keys.progress(jobId), { phase, filesTotal: files, bytesTotal: bytes, filesDone: 0, bytesDone: 0 });
}

/** A shard of the running phase finished `files` files of `bytes` bytes: counted, and watchers nudged. */
export async function addPhaseProgress(redis: Redis, jobId: string, files: number, bytes: number): Promise<void> {
  await redis.multi().hincrby(keys.progress(jobId), 'filesDone', files).hincrby(keys.progress(jobId), 'bytesDone', bytes).exec();
  await publishEvent(redis, { id: jobId, type: 'progress' });
}

/**
 * The progress of `phase` from the progress hash, or undefined when another phase (or none) set
 * it. A shard run twice (a retry after a crash) counts twice: done never passes the total.
 */
export function phaseProgressOf(hash: Record<string, string>, phase: string): PhaseProgress | undefined {
  if (hash.phase !== phase) return undefined;
  const n = (k: string): number => Number(hash[k] ?? 0);
  return {
    phase,
    files: Math.min(n('filesDone'), n('filesTotal')),
    filesTotal: n('filesTotal'),
    bytes: Math.min(n('bytesDone'), n('bytesTotal')),
    bytesTotal: n('bytesTotal'),
  };
}
