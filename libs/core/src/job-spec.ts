import type { FilterSpec } from './filter-spec.js';
import type { JobOptions } from './job-spec-schema.js';

/*
 * The job vocabulary without zod: the CLI and the workers import these at start-up. The request's
 * schema is `JobSpecSchema` and its parser `parseJobSpec`, both at `@filer/core/schema`.
 */

export const JOB_KINDS = ['find', 'dupes', 'rename', 'copy', 'move', 'manifest'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const CONFLICT_POLICIES = ['fail', 'skip', 'suffix', 'overwrite'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
export const OUTPUT_FORMATS = ['paths', 'ndjson', 'csv', 'json'] as const;
export const HASHES = ['xxh128', 'sha256'] as const;
/** The one job spec version there is; a request without `version` means it. */
export const JOB_SPEC_VERSION = 1;

export type { JobOptions, JobSpecInput } from './job-spec-schema.js';

/** A validated job: the filter parsed (relative dates fixed to absolute times), options checked and defaulted. */
export interface JobSpec {
  version: typeof JOB_SPEC_VERSION;
  kind: JobKind;
  roots: string[];
  filter: FilterSpec;
  options: JobOptions;
  apply: boolean;
}

const BATCH_KINDS: readonly JobKind[] = ['rename', 'copy', 'move'];
export function isBatchKind(kind: JobKind): kind is 'rename' | 'copy' | 'move' {
  return BATCH_KINDS.includes(kind);
}
