import type { FilterSpec } from './filter-spec.js';
import type { JobOptions } from './job-spec-schema.js';
import type { JOB_SPEC_VERSION, JobKind } from './job-vocabulary.js';

/*
 * What a job is, without zod: the CLI and the workers import these at start-up (the imports of
 * the schema's module are types only). The request's schema is `JobSpecSchema` and its parser
 * `parseJobSpec`, both at `@filer/core/schema`.
 */

export * from './job-vocabulary.js';
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
