import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { FilerError, parseFilterSpec, type FilterSpec } from '@filer/core';
import { rootTask, type DirTask } from '@filer/engine';
import { needsS3Sink } from '@filer/storage';
import {
  checkPayload,
  contractJob,
  DirTaskSchema,
  FilterSpecSchema,
  handlersFor,
  JOB_CONTRACTS,
  JOB_NAMES,
  JobName,
  upgradePayload,
  type JobData,
} from './job-contracts.js';
import { ALL_QUEUES, QUEUES } from './queues.js';
import { toQueueError } from './shard-errors.js';
import { checkWorkerHandlers, JOB_HANDLERS, WORKER_QUEUES } from './workers.js';

// The schemas and the types the walk and the filters use must describe the same shapes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const filterMatches: Same<z.infer<typeof FilterSpecSchema>, FilterSpec> = true;
const taskMatches: Same<z.infer<typeof DirTaskSchema>, DirTask> = true;

const jobId = '0000000000abcdef';

const good: { [N in JobName]: JobData<N> } = {
  scan: {
    jobId,
    tasks: [
      { ...rootTask('/data/photos/2024'), depth: 2, rel: '2024', ignores: [{ dir: '/data', text: '*.tmp\n', strip: 0, prefix: '' }] },
    ],
    root: '/data/photos',
    spec: parseFilterSpec({ ext: 'jpg', minSize: '1k', newer: '2024-01-01', maxDepth: 3 }, Date.UTC(2025, 0, 1)),
    records: 'entries',
    statAll: true,
    identity: true,
  },
  hash: { jobId, part: '00003', algorithm: 'sha256', includeEmpty: false },
  apply: { jobId, part: '00000', kind: 'move', onConflict: 'suffix', verify: true, sink: { sources: ['/data/a'], targets: ['s3://b/x'] } },
  undo: { jobId, part: '00001', sink: { sources: ['/data/a'], targets: [] } },
  purge: { jobId, part: '00002' },
  finalize: { jobId, phase: 'apply' },
};

/** A copy of a good payload with one field changed (or removed, for undefined). */
function bad(name: JobName, path: (string | number)[], value: unknown): unknown {
  const data = structuredClone(good[name]) as Record<string | number, unknown>;
  let at = data;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete at[last];
  else at[last] = value;
  return data;
}

function failure(name: JobName, data: unknown): FilerError {
  try {
    checkPayload(name, { id: 'shard-7', data });
  } catch (e) {
    expect(e).toBeInstanceOf(FilerError);
    return e as FilerError;
  }
  throw new Error(`${name}: payload ${JSON.stringify(data)} was accepted`);
}

describe('job contracts', () => {
  it('the schemas describe the FilterSpec and DirTask types exactly (the scan payload type is derived from its schema)', () => {
    expect([filterMatches, taskMatches]).toEqual([true, true]);
  });

  it.each(JOB_NAMES)('a good %s payload passes as it is', (name) => {
    expect(checkPayload(name, { id: 'shard-1', data: good[name] })).toEqual(good[name]);
  });

  it('a root scan shard (no tasks) and a child scan shard (no root) both pass', () => {
    const child: Partial<JobData<'scan'>> = structuredClone(good.scan);
    delete child.root;
    expect(() => checkPayload(JobName.scan, { data: child })).not.toThrow();
    expect(() => checkPayload(JobName.scan, { data: { ...good.scan, tasks: [] } })).not.toThrow();
  });

  it.each([
    [JobName.scan, ['jobId'], '../../etc', 'jobId', 'jobId "../../etc" is not a job id'],
    [JobName.scan, ['tasks', 0, 'depth'], -1, 'tasks.0.depth', 'tasks.0.depth -1 is invalid (expected number to be >=0)'],
    [JobName.scan, ['spec', 'type'], 'fifo', 'spec.type', 'spec.type "fifo" is invalid ('],
    [JobName.scan, ['records'], 'all', 'records', 'records "all" is invalid ('],
    [JobName.scan, ['statAll'], undefined, 'statAll', 'statAll is missing (expected boolean'],
    [JobName.hash, ['algorithm'], 'md5', 'algorithm', 'algorithm "md5" is invalid ('],
    [JobName.hash, ['part'], '../00000', 'part', 'part "../00000" is not a part name'],
    [
      JobName.apply,
      ['onConflict'],
      'maybe',
      'onConflict',
      'onConflict "maybe" is invalid (expected one of "fail"|"skip"|"suffix"|"overwrite")',
    ],
    [JobName.apply, ['kind'], 'dupes', 'kind', 'kind "dupes" is invalid ('],
    [JobName.apply, ['verify'], 'yes', 'verify', 'verify "yes" is invalid (expected boolean, received string)'],
    [JobName.undo, ['part'], undefined, 'part', 'part is missing (expected string'],
    [JobName.undo, ['sink', 'targets'], 's3://b/x', 'sink.targets', 'sink.targets "s3://b/x" is invalid (expected array, received string)'],
    [JobName.apply, ['sink'], undefined, 'sink', 'sink is missing (expected object'],
    [JobName.finalize, ['phase'], 'plan', 'phase', 'phase "plan" is invalid ('],
    [JobName.finalize, ['jobId'], 42, 'jobId', 'jobId 42 is invalid (expected string, received number)'],
  ] as const)('%s: %j = %j is refused, naming the shard and the field %s', (name, path, value, field, text) => {
    const e = failure(name, bad(name, [...path], value));
    expect(e.code).toBe('E_INVALID_ARGUMENT');
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${name} shard shard-7: ${text}`), e.message).toBe(true);
    // Non-retryable: BullMQ does not attempt it again.
    expect(toQueueError(e)).toBeInstanceOf(UnrecoverableError);
  });

  it('an apply or undo shard queued before `sink` (`s3: boolean`) gets the sink that flag meant; others are left as they are', () => {
    const old: Record<string, unknown> = { ...good.apply };
    delete old.sink;
    const local = upgradePayload(JobName.apply, { ...old, s3: false });
    expect(checkPayload(JobName.apply, { id: 'a', data: local }).sink).toEqual({ sources: [], targets: [] });
    const remote = upgradePayload(JobName.undo, { jobId, part: '00001', s3: true }) as { sink: { sources: string[] } };
    expect(checkPayload(JobName.undo, { id: 'u', data: remote })).toEqual({
      jobId,
      part: '00001',
      sink: { sources: ['s3://'], targets: [] },
    });
    expect(needsS3Sink(remote.sink.sources, [])).toBe(true);
    expect(needsS3Sink([], [])).toBe(false);
    // A payload with a sink, or of another job, is not touched.
    expect(upgradePayload(JobName.apply, good.apply)).toBe(good.apply);
    const hash = { ...good.hash, s3: true };
    expect(upgradePayload(JobName.hash, hash)).toBe(hash);
    expect(upgradePayload(JobName.apply, { ...old, s3: 'yes' })).toEqual({ ...old, s3: 'yes' });
  });

  it('a payload that is not an object is refused as a whole', () => {
    const e = failure(JobName.hash, null);
    expect(e.field).toBe('data');
    expect(e.message).toMatch(/^hash shard shard-7: the payload null is invalid \(expected object, received null\)/);
  });

  it('only the first bad field is named', () => {
    const e = failure(JobName.hash, { jobId: 'x', part: '../p', algorithm: 'md5', includeEmpty: 'no' });
    expect(e.field).toBe('jobId');
  });

  it('a job built by contractJob goes to its contract’s queue', () => {
    const opts = { jobId: `${jobId}-x` };
    for (const name of JOB_NAMES)
      expect(contractJob(name, good[name], opts)).toEqual({ name, queueName: JOB_CONTRACTS[name].queue, data: good[name], opts });
    expect(contractJob(JobName.undo, good.undo, opts).queueName).toBe(QUEUES.batch);
    // @ts-expect-error a hash payload needs its algorithm: a job cannot be built without it.
    contractJob(JobName.hash, { jobId, part: '00000', includeEmpty: false }, opts);
    // @ts-expect-error an undo payload is not a finalizer's.
    contractJob(JobName.finalize, good.undo, opts);
  });

  it('every queue a contract names is consumed by a worker app', () => {
    const consumed = new Set<string>(Object.values(WORKER_QUEUES).flat());
    for (const name of JOB_NAMES) expect(consumed.has(JOB_CONTRACTS[name].queue), name).toBe(true);
    expect([...consumed].sort()).toEqual([...ALL_QUEUES].sort());
  });
});

describe('the start-up check of job handlers', () => {
  const run = async (): Promise<void> => undefined;
  const all = JOB_NAMES.map((name) => ({ name: name as string, run }));

  it('the handlers the workers run pass for both apps, each getting the names of its own queues', () => {
    expect(() => checkWorkerHandlers(WORKER_QUEUES.scanner)).not.toThrow();
    expect(() => checkWorkerHandlers(WORKER_QUEUES.batch)).not.toThrow();
    expect([...handlersFor(JOB_HANDLERS, WORKER_QUEUES.scanner).keys()]).toEqual(['scan']);
    expect([...handlersFor(JOB_HANDLERS, WORKER_QUEUES.batch).keys()].sort()).toEqual(['apply', 'finalize', 'hash', 'purge', 'undo']);
  });

  it('a job name of a consumed queue without a handler stops the start', () => {
    const broken = all.filter((h) => h.name !== JobName.undo);
    expect(() => handlersFor(broken, WORKER_QUEUES.batch)).toThrow(/'undo' jobs \(queue filer-batch\) have no handler/);
    // The scanner does not consume undo jobs: the same map is enough for it.
    expect([...handlersFor(broken, WORKER_QUEUES.scanner).keys()]).toEqual(['scan']);
  });

  it('two handlers for one name stop the start', () => {
    expect(() => handlersFor([...all, { name: JobName.scan, run }], WORKER_QUEUES.scanner)).toThrow(/'scan' has more than one handler/);
  });

  it('a handler for a name no contract has stops the start, whatever the queues', () => {
    expect(() => handlersFor([...all, { name: 'resize', run }], [])).toThrow(/a handler serves 'resize', which is not a job name/);
  });

  it('every mismatch is named in one error', () => {
    const broken = [...all.filter((h) => h.name !== JobName.hash && h.name !== JobName.finalize), { name: 'Scan', run }];
    let message = '';
    try {
      handlersFor(broken, WORKER_QUEUES.batch);
    } catch (e) {
      expect((e as FilerError).code).toBe('E_INVALID_ARGUMENT');
      message = (e as Error).message;
    }
    expect(message).toMatch(/^the job handlers do not match the job contracts: /);
    expect(message).toContain("a handler serves 'Scan'");
    expect(message).toContain("'hash' jobs (queue filer-batch) have no handler");
    expect(message).toContain("'finalize' jobs (queue filer-finalize) have no handler");
  });
});
