import type { PathError } from '@filer/core';
import { addCounters, type JobCounters, type JobRecord } from './job-record.js';

/** A phase's shards summed by the finalizer: what each phase's end makes of them. */
export interface PhaseSums {
  counters: JobCounters;
  /** The record's sample followed by the shards' own, up to the limit. */
  errorSample: PathError[];
  /** The shards' `extra` counts, summed by name. */
  extra: Record<string, number>;
  /** How many shards the phase had. */
  shards: number;
}

/** What the end of a phase records of its shards, whatever the phase: their error sample, their counters, how many ran. */
export function recordPhaseSums(r: JobRecord, { counters, errorSample, shards }: PhaseSums): void {
  r.errorSample = errorSample;
  addCounters(r.counters, counters);
  r.shards.total += shards;
  r.shards.done += shards;
}
