import { FilerError, isBatchKind, type JobSpec } from '@filer/core';
import { parseJobSpec } from '@filer/core/schema';
import { isInside, normalizeRoot } from '@filer/engine';
import { admitPath, admitRootDir, admitS3Uri, isS3Uri, type AllowedS3 } from '@filer/storage';
import { compileNamer } from '@filer/storage/batch';
import { admitDedupe } from './admit-dedupe.js';
import type { ClusterContext } from './cluster-context.js';
import { publishEvent } from './events.js';
import { contractJob, JobName, type JobData } from './job-contracts.js';
import { newJobId, type JobRecord } from './job-record.js';
import { hashesManifest } from './manifest-hash-phase.js';
import { finalizeJobOptions, shardJobOptions } from './queues.js';
import { keys } from './redis-keys.js';
import { scanShardId } from './scan-shard.js';

/**
 * Validates a job request completely before anything is queued: its shape and meaning
 * (field-level errors), every local root and destination resolved through symlinks and found
 * inside the allowed roots, every `s3://` one inside the S3 allow-list, and a rename's template
 * compiled. Buckets and prefixes are checked for existence by the root shard that lists them
 * (the API never opens an S3 connection).
 */
export function admitJob(raw: unknown, allowedRoots: readonly string[], now = Date.now(), allowedS3: readonly AllowedS3[] = []): JobSpec {
  const spec = parseJobSpec(raw, now);
  // Fields name the request's own index: checked before duplicates are dropped.
  const odd = spec.roots.findIndex((r) => isS3Uri(r) !== isS3Uri(spec.roots[0]));
  if (odd > 0 && spec.kind !== 'copy' && spec.kind !== 'move')
    throw new FilerError('E_INVALID_ARGUMENT', `roots.${odd}: cannot mix local and S3 roots in one ${spec.kind} job: submit one each`, {
      field: `roots.${odd}`,
      value: spec.roots[odd],
    });
  // A manifest's hash column is sha256, as `filer manifest --hash` writes it.
  if (spec.kind === 'manifest' && spec.options.hash !== undefined && spec.options.hash !== 'sha256')
    throw new FilerError('E_INVALID_ARGUMENT', `options.hash: a manifest's hash column is sha256, not ${spec.options.hash}`, {
      field: 'options.hash',
      value: spec.options.hash,
    });
  spec.roots = [
    ...new Set(
      spec.roots.map((r, i) => {
        if (isS3Uri(r)) return normalizeRoot(admitS3Uri(r, allowedS3, `roots.${i}`));
        // The job works on the resolved root: a symlink swapped later cannot lead a worker out.
        return normalizeRoot(admitRootDir(r, allowedRoots, `roots.${i}`));
      }),
    ),
  ];
  const s3Roots = spec.roots.filter(isS3Uri);
  admitDedupe(spec, allowedRoots);
  if (spec.kind === 'rename') compileNamer(spec.options, { to: 'options.to', replace: 'options.replace' });
  if (spec.kind === 'copy' || spec.kind === 'move') {
    const dest = spec.options.dest!;
    if (isS3Uri(dest)) {
      admitS3Uri(dest, allowedS3, 'options.dest');
      const d = normalizeRoot(dest);
      for (const r of s3Roots) if (d === r || d.startsWith(r + '/')) throw destInside(dest, r);
    } else {
      // Compared as resolved paths: a --dest that is (or passes through) a symlink into a root is inside it.
      const real = admitPath(dest, allowedRoots, 'options.dest', { mustExist: false });
      spec.options.dest = real;
      for (const r of spec.roots) if (isInside(real, r)) throw destInside(dest, r);
    }
  }
  return spec;
}

function destInside(dest: string, root: string): FilerError {
  return new FilerError('E_INVALID_ARGUMENT', `options.dest '${dest}' lies inside the root ${root}: its own output would be walked`, {
    field: 'options.dest',
    value: dest,
  });
}

/** Records a job and queues its first phase: one scan shard per root under a finalizer. */
export async function submitJob(ctx: ClusterContext, spec: JobSpec): Promise<JobRecord> {
  const id = newJobId();
  const record = await ctx.store.create({ id, kind: spec.kind, spec, state: 'queued', createdAt: new Date().toISOString() });
  const shard = (root: string): JobData<'scan'> => ({
    jobId: id,
    tasks: [],
    root,
    spec: spec.filter,
    // A hashed manifest keeps whole entries: its hash phase checks each file's identity and writes the records.
    records: spec.kind === 'find' || (spec.kind === 'manifest' && !hashesManifest(spec)) ? 'find' : 'entries',
    // `paths` needs names only; everything else prints or plans with size and mtime.
    statAll: !(spec.kind === 'find' && spec.options.format === 'paths'),
    identity: spec.kind === 'dupes' || isBatchKind(spec.kind) || hashesManifest(spec),
  });
  await ctx.redis.hset(keys.progress(id), 'shardsTotal', spec.roots.length);
  await ctx.flows.add({
    ...contractJob(JobName.finalize, { jobId: id, phase: 'scan' }, finalizeJobOptions(ctx.config, `${id}-final-scan`)),
    children: spec.roots.map((root, i) =>
      contractJob(JobName.scan, shard(root), shardJobOptions(ctx.config, scanShardId(id, [root]), i + 1)),
    ),
  });
  await publishEvent(ctx.redis, { id, type: 'state', state: 'queued' });
  return record;
}

/**
 * Cancels a job: queued and running shards see the flag and stop (the running ones between two
 * slices of their walk), and the job's state is final at once. An apply already under way stops
 * after its current batch; what it did stays journaled and can be undone.
 */
export async function cancelJob(ctx: ClusterContext, id: string): Promise<JobRecord | undefined> {
  await ctx.redis.set(keys.cancelled(id), '1', 'EX', 30 * 86_400);
  const rec = await ctx.store.update(
    id,
    (r) => {
      r.state = 'cancelled';
      r.finishedAt = new Date().toISOString();
      r.message = 'cancelled on request';
    },
    ['queued', 'running', 'planned', 'applying'],
  );
  if (rec !== undefined) await publishEvent(ctx.redis, { id, type: 'state', state: 'cancelled' });
  return rec;
}
