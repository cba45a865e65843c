import { JOB_KINDS } from '@filer/core';
import { JOB_ID_PATTERN, JOB_STATES, type JobRecord, type JobState } from '@filer/jobs';
import { invalid } from '../errors/api-error.js';

export type Query = Record<string, string | string[] | undefined>;

/** A job id from the path, checked before it goes near Redis. */
export function jobId(id: string): string {
  if (!JOB_ID_PATTERN.test(id)) throw invalid('id', `'${id.slice(0, 64)}' is not a job id`);
  return id;
}

/** One value of a query parameter (repeating one is an error). */
export function queryValue(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw invalid(name, `${name} given more than once`);
  return v === '' ? undefined : v;
}

/** A whole number query parameter in [min, max]. */
export function queryInt(q: Query, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = queryValue(q, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw invalid(name, `${name} must be a whole number from ${min} to ${max}, not '${raw.slice(0, 32)}'`);
  return Number(raw);
}

export function queryEnum<T extends string>(q: Query, name: string, allowed: readonly T[]): T | undefined {
  const raw = queryValue(q, name);
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw invalid(name, `${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 500;

export interface ListParams {
  state?: JobState;
  kind?: string;
  before?: string;
  limit: number;
}

export function listParams(q: Query): ListParams {
  const before = queryValue(q, 'before');
  if (before !== undefined && !JOB_ID_PATTERN.test(before)) throw invalid('before', 'before must be a job id (the previous page’s next)');
  return {
    state: queryEnum(q, 'state', JOB_STATES),
    kind: queryEnum(q, 'kind', JOB_KINDS),
    before,
    limit: queryInt(q, 'limit', LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX)!,
  };
}

/** The answer to an accepted submit (and, byte for byte, to its replays under one Idempotency-Key). */
export interface JobAccepted {
  id: string;
  state: string;
  links: ReturnType<typeof jobLinks>;
}

/** Links of a job, relative to the API's root. */
export function jobLinks(id: string): { self: string; results: string; events: string } {
  const self = `/v1/jobs/${id}`;
  return { self, results: `${self}/results`, events: `${self}/events` };
}

export function withLinks(rec: JobRecord): JobRecord & { links: ReturnType<typeof jobLinks> } {
  return { ...rec, links: jobLinks(rec.id) };
}
