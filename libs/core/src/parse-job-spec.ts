import type { z } from 'zod';
import { FilerError, invalidArgument } from './errors.js';
import { parseFilterSpec, type FilterSpec } from './filter-spec.js';
import { isBatchKind, type JobSpec } from './job-spec.js';
import { JobSpecSchema } from './job-spec-schema.js';

/** What a zod issue's path leads to in the request, for the error's `value`. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** The first problem zod found, as the FilerError every parser of user input throws. */
function issueError(raw: unknown, issue: z.core.$ZodIssue): FilerError {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') return invalidArgument([...path, issue.keys[0]].join('.'), '', issue.message);
  const v = valueAt(raw, issue.path);
  const given =
    (issue.code === 'custom' ? issue.params?.value : undefined) ?? (issue.code === 'too_big' && Array.isArray(v) ? v.length : v);
  return invalidArgument(path.join('.'), given === undefined ? '' : String(given), issue.message);
}

/** Runs the filter parser with the job's field names (`filter.minSize`). */
function parseFilter(raw: unknown, now: number): FilterSpec {
  try {
    return parseFilterSpec(raw ?? {}, now);
  } catch (e) {
    if (e instanceof FilerError && e.field !== undefined) {
      // A filter that is no object at all is the field `filter` itself.
      const whole = typeof raw !== 'object' || Array.isArray(raw);
      throw new FilerError(e.code, e.message, { field: whole ? 'filter' : `filter.${e.field}`, value: e.value, cause: e });
    }
    throw e;
  }
}

/**
 * Checks a job request against `JobSpecSchema` (the first problem wins; its field is a dotted path
 * such as `options.dest`), then resolves the filter (whose own parser words its problems, shape
 * ones included) and fills the defaults by kind. Paths are only checked for syntax here: whether
 * they lie inside the allowed roots is the storage layer's question.
 */
export function parseJobSpec(raw: unknown, now: number = Date.now()): JobSpec {
  const checked = JobSpecSchema.safeParse(raw);
  if (!checked.success) {
    const first = checked.error.issues[0];
    // The filter parser accepts no shape the schema refuses (a property test holds them to it).
    if (first.path[0] === 'filter') parseFilter((raw as { filter?: unknown }).filter, now);
    throw issueError(raw, first);
  }
  const { version, kind, roots, apply } = checked.data;
  const filter = parseFilter(checked.data.filter, now);
  if (kind !== 'find' && filter.type !== 'file') throw invalidArgument('filter.type', filter.type, `${kind} acts on files: type must be f`);
  const options = { ...checked.data.options };
  for (const key of Object.keys(options) as (keyof typeof options)[]) if (options[key] === undefined) delete options[key];
  if (kind === 'dupes') options.hash ??= 'xxh128';
  if (isBatchKind(kind)) options.onConflict ??= 'fail';
  return { version, kind, roots, filter, options, apply };
}
