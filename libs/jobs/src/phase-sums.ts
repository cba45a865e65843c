import type { PathError } from '@filer/core';
import type { JobCounters } from './job-record.js';

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
