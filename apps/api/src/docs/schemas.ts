import { JOB_KINDS } from '@filer/core';
import { jobSpecComponentSchemas } from '@filer/core/schema';
import { JOB_STATES } from '@filer/jobs';
import type { SchemaObject } from '@nestjs/swagger';

export const ref = (name: keyof typeof SCHEMAS): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

/** The 429 every route with a token can answer (see limits/rate-limit.hook.ts), for `@ApiResponse`. */
export const RATE_LIMITED = {
  status: 429,
  description: "E_TOO_MANY_REQUESTS: the token's rate limit (FILER_RATE_LIMIT per FILER_RATE_LIMIT_WINDOW_S) is reached",
  headers: {
    'Retry-After': { description: 'Seconds until one more request is allowed', schema: { type: 'integer', minimum: 1 } },
    'RateLimit-Limit': { description: 'FILER_RATE_LIMIT', schema: { type: 'integer' } },
    'RateLimit-Remaining': { description: 'Requests the token may still make at once', schema: { type: 'integer' } },
  },
  schema: ref('Error'),
};

/** The job request and its filter, generated from core's zod schemas (the ones `parseJobSpec` validates with). */
const { FilterSpec, JobSpec } = jobSpecComponentSchemas() as Record<'FilterSpec' | 'JobSpec', SchemaObject>;

const count = { type: 'integer', minimum: 0 } as const;

/** Component schemas of the OpenAPI document: JobSpec and FilterSpec from zod, the answers by hand. */
export const SCHEMAS: Record<string, SchemaObject> = {
  FilterSpec,
  JobSpec,
  JobLinks: {
    type: 'object',
    properties: { self: { type: 'string' }, results: { type: 'string' }, events: { type: 'string' } },
  },
  JobAccepted: {
    type: 'object',
    required: ['id', 'state', 'links'],
    properties: {
      id: { type: 'string' },
      state: { type: 'string', enum: [...JOB_STATES] },
      links: { $ref: '#/components/schemas/JobLinks' },
    },
  },
  JobRecord: {
    type: 'object',
    required: ['id', 'kind', 'spec', 'state', 'phase', 'createdAt', 'updatedAt', 'counters', 'shards'],
    properties: {
      id: { type: 'string' },
      kind: { type: 'string', enum: [...JOB_KINDS] },
      spec: {
        type: 'object',
        description:
          'The JobSpec as admitted: version and defaults filled in, roots and dest resolved through symlinks, the filter resolved (extensions, sizes in bytes, times in epoch ms)',
      },
      state: { type: 'string', enum: [...JOB_STATES] },
      phase: { type: 'string', description: 'scan, hash, plan, apply or undo' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
      message: { type: 'string' },
      code: {
        type: 'string',
        description: 'Why a failed job failed: a failed shard’s code (EACCES, E_PATH_NOT_ALLOWED, …) or E_QUEUE_STATE_LOST',
      },
      rev: { ...count, description: 'Bumped by every change of the record' },
      counters: {
        type: 'object',
        properties: { dirs: count, entries: count, matched: count, bytes: count, errors: count, errorsByCode: { type: 'object' } },
      },
      shards: { type: 'object', properties: { total: count, done: count, failed: count } },
      errorSample: {
        type: 'array',
        items: { type: 'object', properties: { path: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
      },
      plan: {
        type: 'object',
        description:
          'rename/copy/move: actions, conflicts, bytes, unchanged, skipped; dupes with an action: also groups (actions: copies acted on, bytes: bytes freed)',
      },
      apply: { type: 'object', description: 'rename/copy/move, dupes with an action: done, failed, skipped, undone, pending' },
      purge: {
        type: 'object',
        description: 'dupes with an action, once purged: quarantined copies deleted, their bytes, quarantine paths left',
        properties: { removed: count, bytes: count, left: count },
      },
      dupes: {
        type: 'object',
        description:
          'dupes: groups, duplicateFiles, wastedBytes, filesHashed, bytesHashed, cacheHits (hashes served by the shared hash index)',
      },
      progress: {
        type: 'object',
        description: 'While a hash, apply or undo phase runs: files and bytes done of its total, updated as its shards finish',
        properties: { phase: { type: 'string' }, files: count, filesTotal: count, bytes: count, bytesTotal: count },
      },
      results: { ...count, description: 'Result records ready to read' },
      links: { $ref: '#/components/schemas/JobLinks' },
    },
  },
  JobList: {
    type: 'object',
    required: ['jobs', 'next'],
    properties: {
      jobs: { type: 'array', items: { $ref: '#/components/schemas/JobRecord' } },
      next: { type: 'string', nullable: true, description: 'Pass as `before` for the next page; null on the last page' },
    },
  },
  ItemOutcome: {
    type: 'object',
    required: ['jobId', 'phase', 'action', 'source', 'target', 'size', 'state', 'at', 'links'],
    properties: {
      jobId: { type: 'string' },
      phase: { type: 'string', enum: ['apply', 'undo'] },
      action: {
        type: 'string',
        description: 'The job’s kind: rename, copy or move; for a dupes job with an action, the item’s op (hardlink, remove, …)',
      },
      source: { type: 'string' },
      target: { type: 'string' },
      size: count,
      state: { type: 'string', enum: ['pending', 'done', 'failed', 'skipped', 'undone'] },
      code: { type: 'string', description: 'A failure’s stable code (E_CHANGED, EACCES, …), when its reason has one' },
      reason: { type: 'string' },
      at: { type: 'string', format: 'date-time', description: 'When the shard recorded it' },
      links: { type: 'object', properties: { job: { type: 'string' } } },
    },
  },
  ItemList: {
    type: 'object',
    required: ['path', 'items'],
    properties: {
      path: { type: 'string' },
      items: { type: 'array', items: { $ref: '#/components/schemas/ItemOutcome' } },
    },
  },
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', example: 'E_INVALID_ARGUMENT' },
          message: { type: 'string' },
          fields: {
            type: 'array',
            items: { type: 'object', properties: { field: { type: 'string', example: 'filter.minSize' }, message: { type: 'string' } } },
          },
          state: { type: 'string', description: "On a 409: the job's state" },
        },
      },
    },
  },
};
