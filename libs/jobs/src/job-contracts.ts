import type { Job, JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import { FilerError } from '@filer/core';
import { ON_CONFLICT } from '@filer/engine';
import { JOB_ID_PATTERN } from './job-record.js';
import { QUEUES, type QueueName } from './queues.js';

/**
 * The cluster's job contracts, in one place: every job name the cluster queues, the queue it
 * goes to, and the schema of its payload. A payload is validated against its schema when a
 * worker takes the job (workers.ts), and `contractJob` is the only way a job is built, so name,
 * queue and payload type cannot drift apart.
 */
export const JobName = { scan: 'scan', hash: 'hash', apply: 'apply', undo: 'undo', purge: 'purge', finalize: 'finalize' } as const;
export type JobName = (typeof JobName)[keyof typeof JobName];
export const JOB_NAMES: readonly JobName[] = Object.values(JobName);

/** The phases a finalizer ends: each phase's shards are the children of one finalize job. */
export const PHASES = ['scan', 'hash', 'apply', 'undo', 'purge'] as const;
export type Phase = (typeof PHASES)[number];

const jobId = z.string().regex(JOB_ID_PATTERN, 'is not a job id');
/** A part names a file of the results volume: no separator or dot may lead it elsewhere. */
const part = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a part name');
const count = z.number().int().nonnegative();

/** `FilterSpec` (libs/core) as it travels in a scan shard: already resolved, so only its shape is checked. */
export const FilterSpecSchema = z.object({
  extensions: z.array(z.string()),
  minSize: z.number().nonnegative().optional(),
  maxSize: z.number().nonnegative().optional(),
  newerThanMs: z.number().optional(),
  olderThanMs: z.number().optional(),
  names: z.array(z.string()),
  regex: z.string().optional(),
  excludes: z.array(z.string()),
  type: z.enum(['file', 'dir', 'symlink']),
  hidden: z.boolean(),
  ignoreFiles: z.boolean(),
  maxDepth: count.optional(),
  follow: z.boolean(),
});

/** `DirTask` (libs/engine): a directory or S3 prefix waiting to be read, with what it inherits. */
export const DirTaskSchema = z.object({
  path: z.string().min(1),
  rel: z.string(),
  depth: count,
  ignores: z.array(z.object({ dir: z.string(), text: z.string(), strip: count, prefix: z.string() })),
  ancestors: z.array(z.string()),
});

const ScanShardSchema = z.object({
  jobId,
  /** Directories to walk; a root shard names its root instead and seeds its own task. */
  tasks: z.array(DirTaskSchema),
  root: z.string().min(1).optional(),
  spec: FilterSpecSchema,
  /** `find`: records as `filer find --format ndjson` prints them; `entries`: whole entries for later phases. */
  records: z.enum(['find', 'entries']),
  statAll: z.boolean(),
  identity: z.boolean(),
});

const HashShardSchema = z.object({
  jobId,
  /** The input part: every file of the size groups this shard owns, so its groups are complete. */
  part,
  algorithm: z.enum(['xxh128', 'sha256']),
  includeEmpty: z.boolean(),
  /** A manifest's part (every entry, in scan order) to write with its sha256s, instead of dupes' size groups. */
  manifest: z.boolean().optional(),
  /** Paths may be symlinks to the files the walk recorded (-L). */
  follow: z.boolean().optional(),
});

/** What openSink decides local or S3 from, in the shard's process: the job's roots and its destination (copy, move). */
const SinkSchema = z.object({ sources: z.array(z.string()), targets: z.array(z.string()) });

const ApplyShardSchema = z.object({
  jobId,
  part,
  /** `dedupe`: a dupes job's actions, run by the engine's applyDedupeJob as `filer dupes --action … --apply` runs them. */
  kind: z.enum(['rename', 'copy', 'move', 'dedupe']),
  onConflict: z.enum(ON_CONFLICT),
  verify: z.boolean(),
  /** dedupe: hard links between files whose owner, group or mode differ are allowed. */
  ignorePerms: z.boolean().optional(),
  sink: SinkSchema,
});

const UndoShardSchema = z.object({ jobId, part, sink: SinkSchema });

/** A dupes job's quarantine, one apply shard's journal at a time (`purgeDedupeJob`). */
const PurgeShardSchema = z.object({ jobId, part });

const FinalizeSchema = z.object({ jobId, phase: z.enum(PHASES) });

/** Each job name's queue and payload schema. */
export const JOB_CONTRACTS = {
  scan: { queue: QUEUES.scan, payload: ScanShardSchema },
  hash: { queue: QUEUES.batch, payload: HashShardSchema },
  apply: { queue: QUEUES.batch, payload: ApplyShardSchema },
  undo: { queue: QUEUES.batch, payload: UndoShardSchema },
  purge: { queue: QUEUES.batch, payload: PurgeShardSchema },
  finalize: { queue: QUEUES.finalize, payload: FinalizeSchema },
} as const satisfies Record<JobName, { queue: QueueName; payload: z.ZodType }>;

/** The payload of a job, as its schema describes it. */
export type JobData<N extends JobName> = z.infer<(typeof JOB_CONTRACTS)[N]['payload']>;
export type HashShardData = JobData<'hash'>;
export type ApplyShardData = JobData<'apply'>;
export type UndoShardData = JobData<'undo'>;
export type PurgeShardData = JobData<'purge'>;
export type FinalizeData = JobData<'finalize'>;

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_CONTRACTS, name);
}

/** A job as BullMQ's FlowProducer takes it (a parent adds `children`); built only by `contractJob`. */
export interface ContractJob<N extends JobName> {
  name: N;
  queueName: (typeof JOB_CONTRACTS)[N]['queue'];
  data: JobData<N>;
  opts: JobsOptions;
}

/** A job with its contract's queue and a payload of its contract's type. */
export function contractJob<N extends JobName>(name: N, data: JobData<N>, opts: JobsOptions): ContractJob<N> {
  return { name, queueName: JOB_CONTRACTS[name].queue, data, opts };
}

/** Adds one job (not a flow) to its contract's queue. */
export function addJob<N extends JobName>(queues: Record<QueueName, Queue>, job: ContractJob<N>): Promise<Job<JobData<N>>> {
  return queues[job.queueName].add(job.name, job.data, job.opts);
}

/** Long values (a whole filter spec) are cut in messages: the field's name says where to look. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * A payload queued by a worker of the release before `sink` (apply and undo shards carried
 * `s3: boolean`), rewritten to what that flag meant, so shards waiting in Redis across an upgrade
 * still run: `s3: true` asked for the S3 file operations (which act on local paths too).
 */
export function upgradePayload(name: JobName, data: unknown): unknown {
  if (name !== JobName.apply && name !== JobName.undo) return data;
  if (typeof data !== 'object' || data === null || 'sink' in data || !('s3' in data) || typeof data.s3 !== 'boolean') return data;
  const { s3, ...rest } = data;
  return { ...rest, sink: s3 ? { sources: ['s3://'], targets: [] } : { sources: [], targets: [] } };
}

/**
 * Checks a taken job's payload against its contract. A payload that does not fit fails the same
 * way on every attempt: a non-retryable E_INVALID_ARGUMENT naming the job, the shard and the
 * first bad field.
 */
export function checkPayload<N extends JobName>(name: N, job: { id?: string; data: unknown }): JobData<N> {
  const schema: z.ZodType = JOB_CONTRACTS[name].payload;
  const result = schema.safeParse(job.data);
  if (result.success) return result.data as JobData<N>;
  const issue = result.error.issues[0];
  const field = issue.path.map(String).join('.');
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | null | undefined)?.[k], job.data);
  // zod's headings (`Invalid option: `, `Too small: `) add nothing to the field's name and value.
  const what = issue.message.replace(/^[A-Z][a-z ]+: /, '');
  const reason = issue.message.startsWith('is ') ? issue.message : value === undefined ? `is missing (${what})` : `is invalid (${what})`;
  const subject = field === '' ? `the payload ${shown(job.data)}` : value === undefined ? field : `${field} ${shown(value)}`;
  throw new FilerError('E_INVALID_ARGUMENT', `${name} shard ${job.id}: ${subject} ${reason}`, {
    field: field === '' ? 'data' : field,
    ...(value === undefined ? {} : { value: shown(value) }),
  });
}

/**
 * The start-up check of a worker: every job name on the queues it consumes has exactly one
 * handler, and every handler serves a job name of the contracts. Returns the handlers of those
 * queues by name (a job that arrives on another queue than its contract's finds none); throws
 * one error listing every mismatch otherwise.
 */
export function handlersFor<H extends { name: string }>(handlers: readonly H[], queues: readonly QueueName[]): ReadonlyMap<string, H> {
  const problems: string[] = [];
  const byName = new Map<JobName, H>();
  for (const h of handlers) {
    if (!isJobName(h.name)) problems.push(`a handler serves '${h.name}', which is not a job name (${JOB_NAMES.join(', ')})`);
    else if (byName.has(h.name)) problems.push(`'${h.name}' has more than one handler`);
    else byName.set(h.name, h);
  }
  const consumed = new Map<string, H>();
  for (const name of JOB_NAMES) {
    const queue = JOB_CONTRACTS[name].queue;
    if (!queues.includes(queue)) continue;
    const h = byName.get(name);
    if (h === undefined) problems.push(`'${name}' jobs (queue ${queue}) have no handler`);
    else consumed.set(name, h);
  }
  if (problems.length > 0)
    throw new FilerError('E_INVALID_ARGUMENT', `the job handlers do not match the job contracts: ${problems.join('; ')}`, {
      field: 'handlers',
    });
  return consumed;
}
