/*
 * The job vocabulary without zod: the CLI and the workers import these at start-up. The request's
 * schema (job-spec-schema.ts) builds on them; job-spec.ts adds the parsed spec's types.
 */

export const JOB_KINDS = ['find', 'dupes', 'rename', 'copy', 'move', 'manifest'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const CONFLICT_POLICIES = ['fail', 'skip', 'suffix', 'overwrite'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
export const OUTPUT_FORMATS = ['paths', 'ndjson', 'csv', 'json'] as const;
export const HASHES = ['xxh128', 'sha256'] as const;
/** What `dupes --action` (options.action) does to each copy that is not kept. */
export const DEDUPE_ACTIONS = ['hardlink', 'symlink', 'remove', 'move-to', 'reflink'] as const;
export type DedupeAction = (typeof DEDUPE_ACTIONS)[number];
/** The named `--keep` rules (options.keep); `path:GLOB` is the other form. */
export const KEEP_RULE_NAMES = ['oldest', 'newest', 'shortest-path', 'longest-path', 'first-root'] as const;
/** The one job spec version there is; a request without `version` means it. */
export const JOB_SPEC_VERSION = 1;

const BATCH_KINDS: readonly JobKind[] = ['rename', 'copy', 'move'];
export function isBatchKind(kind: JobKind): kind is 'rename' | 'copy' | 'move' {
  return BATCH_KINDS.includes(kind);
}
