import * as path from 'node:path';
import type { Job } from 'bullmq';
import type { FileEntry, PathError } from '@filer/core';
import {
  comparePaths,
  compareDupeGroups,
  type Conflict,
  type DupeFile,
  type DupeGroup,
  type FileIdentity,
  type MoveRequest,
} from '@filer/engine';
import { isInsideAllowedS3, isInsideRoots, isS3Uri } from '@filer/storage';
import { compileNamer, nameFiles, planLocalMoves, renameRequests, rootIndexOf, sourceIdOf, transferTarget } from '@filer/storage/batch';
import { journalReport } from './batch-shards.js';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { contractJob, JobName, type ApplyShardData, type FinalizeData } from './job-contracts.js';
import { addCounters, emptyCounters, ERROR_SAMPLE_LIMIT, type JobRecord, type JobState } from './job-record.js';
import { finalizeJobOptions, QUEUES, shardJobOptions } from './queues.js';
import { s3Access } from './s3-access.js';
import { shardFailures, type ShardFailure } from './shard-errors.js';
import type { ShardResult } from './shard-result.js';

interface Summed {
  results: ShardResult[];
  failures: (ShardFailure & { shard: string })[];
}

/** Exact totals of a phase, from its shards' return values (and the shards that failed for good, with their codes). */
async function sumChildren(ctx: ClusterContext, job: Job<FinalizeData>): Promise<Summed> {
  const values = await job.getChildrenValues<ShardResult>();
  const failures = await shardFailures(ctx.redis, job.data.jobId, await job.getIgnoredChildrenFailures());
  // In shard order, so the job's code and message do not depend on which shard failed last.
  failures.sort((a, b) => (a.shard < b.shard ? -1 : a.shard > b.shard ? 1 : 0));
  return { results: Object.values(values), failures };
}

function sumExtra(results: readonly ShardResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.extra ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

async function setState(
  ctx: ClusterContext,
  id: string,
  state: JobState,
  change: (r: JobRecord) => void,
  from: readonly JobState[],
): Promise<JobRecord | undefined> {
  const rec = await ctx.store.update(
    id,
    (r) => {
      change(r);
      r.state = state;
      if (['completed', 'failed', 'undone'].includes(state)) r.finishedAt = new Date().toISOString();
    },
    from,
  );
  if (rec !== undefined) await publishEvent(ctx.redis, { id, type: 'state', state, phase: rec.phase });
  return rec;
}

/**
 * The parent of each phase's shards: runs once they have all finished, sums their results
 * exactly, and either finishes the job or starts its next phase. A job cancelled meanwhile stays
 * cancelled: every transition names the states it may leave.
 */
export async function runFinalize(ctx: ClusterContext, job: Job<FinalizeData>): Promise<void> {
  const { jobId, phase } = job.data;
  const rec = await ctx.store.get(jobId);
  if (rec === undefined || rec.state === 'cancelled') return;
  const { results, failures } = await sumChildren(ctx, job);
  const counters = emptyCounters();
  const errorSample = [...rec.errorSample];
  for (const r of results) {
    addCounters(counters, r.counters);
    for (const e of r.errorSample) if (errorSample.length < ERROR_SAMPLE_LIMIT) errorSample.push(e);
  }
  const failedShards = failures.length;
  if (failedShards > 0) {
    // The job carries the first failure's code; every failed shard is listed first in the error sample.
    const listed = failures.map((f) => ({
      path: f.path ?? f.shard,
      code: f.code,
      message: `${phase} shard ${f.shard} failed: ${f.message}`,
    }));
    await setState(
      ctx,
      jobId,
      'failed',
      (r) => {
        r.errorSample = [...listed, ...errorSample].slice(0, ERROR_SAMPLE_LIMIT);
        r.shards.failed += failedShards;
        r.code = failures[0].code;
        r.message = `${failedShards} ${phase} shard(s) failed after every retry: ${failures[0].code}: ${failures[0].message}`;
      },
      ['queued', 'running', 'applying', 'undoing'],
    );
    return;
  }
  const shards = results.length;
  switch (phase) {
    case 'scan':
      // Run again after its worker died past the end of the scan phase (BullMQ took it back):
      // planning again would see the apply's own targets as conflicts. Finish what was begun.
      if (rec.state !== 'queued' && rec.state !== 'running') return continueAfterPlan(ctx, rec);
      await ctx.store.update(jobId, (r) => {
        r.counters = counters;
        r.errorSample = errorSample;
        r.shards = { total: shards, done: shards, failed: 0 };
      });
      return finishScan(ctx, rec);
    case 'hash': {
      const extra = sumExtra(results);
      const groups: DupeGroup[] = [];
      for await (const line of ctx.results.lines(jobId, 'groups')) groups.push(JSON.parse(line) as DupeGroup);
      groups.sort(compareDupeGroups);
      ctx.results.writePart(
        jobId,
        'results',
        'dupes',
        groups.map((g) => JSON.stringify(g) + '\n'),
      );
      await setState(
        ctx,
        jobId,
        'completed',
        (r) => {
          r.errorSample = errorSample;
          addCounters(r.counters, counters);
          r.dupes = {
            groups: groups.length,
            duplicateFiles: extra.duplicateFiles ?? 0,
            wastedBytes: extra.wastedBytes ?? 0,
            filesHashed: extra.filesHashed ?? 0,
            bytesHashed: extra.bytesRead ?? 0,
          };
          r.results = groups.length;
          r.shards.total += shards;
          r.shards.done += shards;
        },
        ['running', 'queued'],
      );
      return;
    }
    case 'apply':
    case 'undo': {
      const extra = sumExtra(results);
      const parts = ctx.results.listParts(jobId, 'apply-in').map((f) => path.basename(f, '.ndjson'));
      const report = parts.flatMap((p) => journalReport(ctx, jobId, p));
      ctx.results.writePart(jobId, 'report', 'all', report);
      const stopped = (extra.stopped ?? 0) > 0;
      await setState(
        ctx,
        jobId,
        phase === 'undo' ? 'undone' : stopped ? 'failed' : 'completed',
        (r) => {
          r.errorSample = errorSample;
          r.apply = {
            done: extra.done ?? 0,
            failed: extra.failed ?? 0,
            skipped: extra.skipped ?? 0,
            undone: extra.undone ?? 0,
            pending: extra.pending ?? 0,
          };
          r.results = report.length;
          r.counters.errors += counters.errors;
          for (const [c, n] of Object.entries(counters.errorsByCode)) r.counters.errorsByCode[c] = (r.counters.errorsByCode[c] ?? 0) + n;
          r.message = stopped
            ? r.errorSample.find((e) => e.code === 'ENOSPC')?.message
            : (extra.failed ?? 0) > 0
              ? `${extra.failed} file(s) failed; see the report`
              : undefined;
        },
        phase === 'undo' ? ['undoing'] : ['applying'],
      );
      return;
    }
  }
}

async function finishScan(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  switch (rec.kind) {
    case 'find':
    case 'manifest':
      await setState(ctx, id, 'completed', (r) => void (r.results = r.counters.matched), ['queued', 'running']);
      return;
    case 'dupes':
      return startHashPhase(ctx, rec);
    case 'rename':
    case 'copy':
    case 'move':
      return planBatch(ctx, rec);
  }
}

/**
 * Dupes' second phase: files whose size is shared are partitioned by size — every file of a
 * size lands in one hash shard, so each shard's groups are complete and need no merging beyond
 * a sort. Sizes are counted in a first pass so only candidates are kept in memory.
 */
async function startHashPhase(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  const counts = new Map<number, number>();
  for await (const line of ctx.results.lines(id, 'scan')) {
    const size = (JSON.parse(line) as FileEntry).size ?? 0;
    counts.set(size, (counts.get(size) ?? 0) + 1);
  }
  const bySize = new Map<number, DupeFile[]>();
  // Objects have no device or inode: S3DupeFiles numbers each distinct key (a key listed twice by overlapping roots counts once).
  const objects = rec.spec.roots.some(isS3Uri) ? new (await s3Access()).s3.S3DupeFiles() : undefined;
  for await (const line of ctx.results.lines(id, 'scan')) {
    const e = JSON.parse(line) as FileEntry;
    const size = e.size ?? 0;
    if ((counts.get(size) ?? 0) < 2) continue;
    let list = bySize.get(size);
    if (list === undefined) bySize.set(size, (list = []));
    if (objects !== undefined) {
      objects.add(e);
      list.push(objects.files[objects.files.length - 1]);
    } else list.push({ path: e.path, size, dev: e.dev!, ino: e.ino!, mtimeSec: e.mtimeSec!, mtimeNsec: e.mtimeNsec! });
  }
  const parts: string[] = [];
  let lines: string[] = [];
  const flush = (): void => {
    if (lines.length === 0) return;
    const part = String(parts.length).padStart(5, '0');
    ctx.results.writePart(id, 'hash-in', part, lines);
    parts.push(part);
    lines = [];
  };
  for (const size of [...bySize.keys()].sort((a, b) => b - a)) {
    for (const f of bySize.get(size)!) lines.push(JSON.stringify(f) + '\n');
    if (lines.length >= ctx.config.batchShardSize) flush();
  }
  flush();
  if (parts.length === 0) {
    ctx.results.writePart(id, 'results', 'dupes', []);
    await setState(
      ctx,
      id,
      'completed',
      (r) => {
        r.dupes = { groups: 0, duplicateFiles: 0, wastedBytes: 0, filesHashed: 0, bytesHashed: 0 };
        r.results = 0;
      },
      ['queued', 'running'],
    );
    return;
  }
  await ctx.store.update(id, (r) => void (r.phase = 'hash'));
  const options = rec.spec.options;
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'hash' }, finalizeJobOptions(ctx.config, `${id}-final-hash`)),
    children: parts.map((part) =>
      contractJob(
        JobName.hash,
        { jobId: id, part, algorithm: options.hash ?? 'xxh128', includeEmpty: options.includeEmpty ?? false },
        shardJobOptions(ctx.config, `${id}-hash-${part}`),
      ),
    ),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'running', phase: 'hash' });
}

/** rename/copy/move: the same planning as the CLI's, over every matched file, then the plan is stored. */
async function planBatch(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  const { spec } = rec;
  await ctx.store.update(id, (r) => void (r.phase = 'plan'));
  const entries: FileEntry[] = [];
  for await (const line of ctx.results.lines(id, 'scan')) entries.push(JSON.parse(line) as FileEntry);
  let requests: MoveRequest[] = [];
  let dateSource: Map<string, string> | undefined;
  // Keys that cannot name a file below the destination fail alone (E_UNSAFE_KEY), as in the CLI.
  const unsafe: PathError[] = [];
  if (spec.kind === 'rename') {
    entries.sort((a, b) => comparePaths(a.path, b.path));
    const named = await nameFiles(entries, compileNamer(spec.options));
    requests = renameRequests(named, spec.roots);
    named.forEach((n, i) => {
      if (n.dateSource !== undefined) (dateSource ??= new Map()).set(requests[i].source, n.dateSource);
    });
  } else {
    // Roots in the order given, files in path order below each: the CLI's order.
    const byRoot = spec.roots.map(() => [] as FileEntry[]);
    for (const e of entries) byRoot[rootIndexOf(spec.roots, e.path)]?.push(e);
    byRoot.forEach((list, i) => {
      list.sort((a, b) => comparePaths(a.path, b.path));
      for (const e of list) {
        let target: string;
        try {
          target = transferTarget(spec.options.dest!, spec.options.flatten ?? false, spec.roots[i], e.path);
        } catch (err) {
          if ((err as { code?: string }).code !== 'E_UNSAFE_KEY') throw err;
          unsafe.push({ path: e.path, code: 'E_UNSAFE_KEY', message: (err as Error).message });
          continue;
        }
        requests.push({ source: e.path, target, size: e.size ?? 0, within: spec.options.dest!, ...sourceIdOf(e) });
      }
    });
  }
  const dest = spec.options.dest;
  const onConflict = spec.options.onConflict ?? 'fail';
  // An S3 destination: what exists under its prefix is read with one flat listing, as in the CLI.
  const plan =
    dest !== undefined && isS3Uri(dest)
      ? await (async () => {
          const { s3, client } = await s3Access();
          return s3.planS3Moves(client, dest, requests, onConflict);
        })()
      : planLocalMoves(requests, onConflict);
  const allowed = (target: string): boolean =>
    isS3Uri(target) ? isInsideAllowedS3(target, ctx.config.allowedS3) : isInsideRoots(target, ctx.allowedRoots);
  const outside: Conflict[] = plan.actions
    .filter((a) => !allowed(a.target))
    .map((a) => ({ kind: 'outside-root', source: a.source, target: a.target, detail: 'target lies outside the allowed roots' }));
  const conflicts = [...plan.conflicts, ...outside];
  const refused = new Set(outside.map((c) => c.source));
  const actions = plan.actions.filter((a) => !refused.has(a.source));
  const lines = [
    ...actions.map(
      (a) =>
        JSON.stringify({
          action: spec.kind,
          source: a.source,
          target: a.target,
          size: a.size,
          ...(a.overwrite ? { overwrite: true } : {}),
          ...(dateSource?.has(a.source) ? { dateSource: dateSource.get(a.source) } : {}),
        }) + '\n',
    ),
    ...conflicts.map((c) => JSON.stringify({ action: 'conflict', ...c }) + '\n'),
  ];
  ctx.results.writePart(id, 'plan', 'all', lines);
  // The identities to journal, one line per planned action in plan order (the plan itself is
  // what users read; these are the apply's).
  ctx.results.writePart(
    id,
    'plan-ids',
    'all',
    actions.map((a) => JSON.stringify(a.sourceId ?? null) + '\n'),
  );
  const planned = await setState(
    ctx,
    id,
    'planned',
    (r) => {
      for (const e of unsafe) {
        r.counters.errors++;
        r.counters.errorsByCode[e.code] = (r.counters.errorsByCode[e.code] ?? 0) + 1;
        if (r.errorSample.length < ERROR_SAMPLE_LIMIT) r.errorSample.push(e);
      }
      r.plan = {
        actions: actions.length,
        conflicts: conflicts.length,
        bytes: plan.bytes,
        unchanged: plan.unchanged,
        skipped: plan.skipped,
      };
      r.results = lines.length;
    },
    ['queued', 'running'],
  );
  if (planned !== undefined && spec.apply && conflicts.length === 0) await startApply(ctx, id);
}

/**
 * Splits a plan into apply shards. Actions that depend on each other (one's target is
 * another's source: chains) stay in one shard, in plan order; independent ones spread out.
 */
export function partitionActions<T extends { source: string; target: string }>(actions: readonly T[], size: number): T[][] {
  const parent = actions.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const bySource = new Map(actions.map((a, i) => [a.source, i]));
  actions.forEach((a, i) => {
    const j = bySource.get(a.target);
    if (j !== undefined) parent[find(i)] = find(j);
  });
  const components = new Map<number, T[]>();
  actions.forEach((a, i) => {
    const root = find(i);
    let list = components.get(root);
    if (list === undefined) components.set(root, (list = []));
    list.push(a);
  });
  const shards: T[][] = [];
  let current: T[] = [];
  for (const list of components.values()) {
    current.push(...list);
    if (current.length >= size) {
      shards.push(current);
      current = [];
    }
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

/**
 * A scan finalizer's re-run on a job its first run had already planned: the apply asked for is
 * started if the first run died before starting it, and queued if it died after marking the
 * job applying but before its shards were queued (an apply finalizer Redis knows, in any state,
 * means they were). Any other state is left as it is.
 */
async function continueAfterPlan(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  if (rec.state === 'planned' && rec.spec.apply === true && rec.plan?.conflicts === 0) await startApply(ctx, rec.id);
  else if (rec.state === 'applying' && rec.phase === 'apply') {
    if ((await ctx.queues[QUEUES.finalize].getJobState(`${rec.id}-final-apply`)) === 'unknown') await queueApply(ctx, rec);
  }
}

/** Starts the apply phase of a planned job with no conflicts. Returns false when the job is not in that state. */
export async function startApply(ctx: ClusterContext, id: string): Promise<boolean> {
  const rec = await ctx.store.update(
    id,
    (r) => {
      r.state = 'applying';
      r.phase = 'apply';
    },
    ['planned'],
  );
  if (rec === undefined) return false;
  await queueApply(ctx, rec);
  return true;
}

/** Partitions the stored plan into apply parts and queues one apply shard each under the apply finalizer (same ids every time). */
async function queueApply(ctx: ClusterContext, rec: JobRecord): Promise<void> {
  const id = rec.id;
  const actions: { source: string; target: string; size: number; overwrite: boolean; sourceId?: FileIdentity }[] = [];
  const ids = ctx.results.lines(id, 'plan-ids')[Symbol.asyncIterator]();
  for await (const line of ctx.results.lines(id, 'plan')) {
    const a = JSON.parse(line) as { action: string; source: string; target: string; size: number; overwrite?: boolean };
    if (a.action === 'conflict') continue;
    const sourceId = JSON.parse((await ids.next()).value as string) as FileIdentity | null;
    actions.push({ source: a.source, target: a.target, size: a.size, overwrite: a.overwrite === true, ...(sourceId ? { sourceId } : {}) });
  }
  const shards = partitionActions(actions, ctx.config.batchShardSize);
  const parts = shards.map((list, i) => {
    const part = String(i).padStart(5, '0');
    ctx.results.writePart(
      id,
      'apply-in',
      part,
      list.map((a) => JSON.stringify(a) + '\n'),
    );
    return part;
  });
  const { spec } = rec;
  const data = {
    jobId: id,
    kind: spec.kind as ApplyShardData['kind'],
    onConflict: spec.options.onConflict ?? 'fail',
    verify: spec.options.verify ?? false,
    s3: spec.roots.some(isS3Uri) || isS3Uri(spec.options.dest ?? ''),
  };
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'apply' }, finalizeJobOptions(ctx.config, `${id}-final-apply`)),
    children: parts.map((part) => contractJob(JobName.apply, { ...data, part }, shardJobOptions(ctx.config, `${id}-apply-${part}`))),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'applying', phase: 'apply' });
}

/** Starts undoing an applied job, one shard per journal. Returns false when the job was not applied. */
export async function startUndo(ctx: ClusterContext, id: string): Promise<boolean> {
  if ((await ctx.store.get(id))?.apply === undefined) return false; // nothing was ever applied
  const rec = await ctx.store.update(
    id,
    (r) => {
      r.state = 'undoing';
      r.phase = 'undo';
    },
    ['completed', 'failed'],
  );
  if (rec === undefined) return false;
  const parts = ctx.results.listParts(id, 'apply-in').map((f) => path.basename(f, '.ndjson'));
  const s3 = rec.spec.roots.some(isS3Uri) || isS3Uri(rec.spec.options.dest ?? '');
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'undo' }, finalizeJobOptions(ctx.config, `${id}-final-undo`)),
    children: parts.map((part) => contractJob(JobName.undo, { jobId: id, part, s3 }, shardJobOptions(ctx.config, `${id}-undo-${part}`))),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'undoing', phase: 'undo' });
  return true;
}
