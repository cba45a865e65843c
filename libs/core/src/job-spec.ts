import { FilerError, invalidArgument } from './errors.js';
import { parseFilterSpec, type FilterInput, type FilterSpec } from './filter-spec.js';

export const JOB_KINDS = ['find', 'dupes', 'rename', 'copy', 'move', 'manifest'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const CONFLICT_POLICIES = ['fail', 'skip', 'suffix', 'overwrite'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/** Options by job kind; every field has a default so a stored spec is complete. */
export interface JobOptions {
  /** find, manifest: the record shape wanted (`paths` needs no stat). */
  format?: 'paths' | 'ndjson' | 'csv' | 'json';
  /** dupes: content hash; manifest: add a sha256 column when set. */
  hash?: 'xxh128' | 'sha256';
  includeEmpty?: boolean;
  /** rename: a template, or a regex replacement on the base name. */
  to?: string;
  replace?: string;
  with?: string;
  /** copy, move: the destination directory, and whether to drop the tree below each root. */
  dest?: string;
  flatten?: boolean;
  verify?: boolean;
  onConflict?: ConflictPolicy;
}

/** What a user asks for, as it arrives over HTTP or from the CLI's flags. */
export interface JobSpecInput {
  kind: string;
  roots: string[];
  filter?: FilterInput;
  options?: JobOptions;
  apply?: boolean;
}

/** A validated job: the filter parsed (relative dates fixed to absolute times), options checked. */
export interface JobSpec {
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value as T))
    throw invalidArgument(
      field,
      String(value),
      `invalid ${field.replace(/^options\./, '')} '${String(value)}': expected one of ${allowed.join(', ')}`,
    );
  return value as T;
}

function flag(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidArgument(field, String(value), `${field} must be true or false`);
  return value;
}

function text(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw invalidArgument(field, String(value), `${field} must be a non-empty string`);
  return value;
}

const OPTION_KEYS = ['format', 'hash', 'includeEmpty', 'to', 'replace', 'with', 'dest', 'flatten', 'verify', 'onConflict'];

/**
 * Checks a job request's shape and meaning, field by field (the first problem wins; its field is
 * a dotted path such as `filter.minSize`). Paths are only checked for syntax here: whether they
 * lie inside the allowed roots is the storage layer's question.
 */
export function parseJobSpec(raw: unknown, now: number = Date.now()): JobSpec {
  if (!isRecord(raw)) throw invalidArgument('', String(raw), 'a job must be a JSON object');
  for (const key of Object.keys(raw))
    if (!['kind', 'roots', 'filter', 'options', 'apply'].includes(key)) throw invalidArgument(key, '', `unknown field '${key}'`);
  const kind = oneOf(raw.kind, JOB_KINDS, 'kind');
  if (kind === undefined) throw invalidArgument('kind', '', `kind is required: one of ${JOB_KINDS.join(', ')}`);
  if (!Array.isArray(raw.roots) || raw.roots.length === 0)
    throw invalidArgument('roots', String(raw.roots), 'roots must be a non-empty array of paths');
  if (raw.roots.length > 64) throw invalidArgument('roots', String(raw.roots.length), 'at most 64 roots per job');
  const roots = raw.roots.map((r, i) => {
    if (typeof r !== 'string' || r === '') throw invalidArgument(`roots.${i}`, String(r), 'each root must be a non-empty string');
    return r;
  });
  let filter: FilterSpec;
  try {
    filter = parseFilterSpec(raw.filter ?? {}, now);
  } catch (e) {
    if (e instanceof FilerError && e.field !== undefined)
      throw new FilerError(e.code, e.message, { field: `filter.${e.field}`, value: e.value, cause: e });
    throw e;
  }
  const o = raw.options ?? {};
  if (!isRecord(o)) throw invalidArgument('options', String(o), 'options must be an object');
  for (const key of Object.keys(o)) if (!OPTION_KEYS.includes(key)) throw invalidArgument(`options.${key}`, '', `unknown option '${key}'`);
  const options: JobOptions = {
    format: oneOf(o.format, ['paths', 'ndjson', 'csv', 'json'], 'options.format'),
    hash: oneOf(o.hash, ['xxh128', 'sha256'], 'options.hash'),
    includeEmpty: flag(o.includeEmpty, 'options.includeEmpty'),
    to: text(o.to, 'options.to'),
    replace: text(o.replace, 'options.replace'),
    with: typeof o.with === 'string' ? o.with : text(o.with, 'options.with'),
    dest: text(o.dest, 'options.dest'),
    flatten: flag(o.flatten, 'options.flatten'),
    verify: flag(o.verify, 'options.verify'),
    onConflict: oneOf(o.onConflict, CONFLICT_POLICIES, 'options.onConflict'),
  };
  for (const key of Object.keys(options) as (keyof JobOptions)[]) if (options[key] === undefined) delete options[key];
  const apply = flag(raw.apply, 'apply') ?? false;

  if (kind !== 'find' && filter.type !== 'file') throw invalidArgument('filter.type', filter.type, `${kind} acts on files: type must be f`);
  if (kind === 'rename') {
    if ((options.to === undefined) === (options.replace === undefined))
      throw invalidArgument(
        'options.to',
        options.to ?? '',
        'say how to rename: options.to (a template) or options.replace with options.with',
      );
    if (options.replace !== undefined && options.with === undefined)
      throw invalidArgument('options.with', '', 'options.replace needs options.with');
    if (options.onConflict === 'overwrite')
      throw invalidArgument('options.onConflict', 'overwrite', 'rename never overwrites: use fail, skip or suffix');
  }
  if ((kind === 'copy' || kind === 'move') && options.dest === undefined)
    throw invalidArgument('options.dest', '', `${kind} needs options.dest, the destination directory`);
  if (kind === 'dupes') options.hash ??= 'xxh128';
  if (isBatchKind(kind)) options.onConflict ??= 'fail';
  if (!isBatchKind(kind) && apply)
    throw invalidArgument('apply', 'true', `${kind} changes nothing: apply applies to rename, copy and move`);
  return { kind, roots, filter, options, apply };
}
