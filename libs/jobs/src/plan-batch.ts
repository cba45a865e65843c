import type { FileEntry, PathError } from '@filer/core';
import { comparePaths, type Conflict, type MoveRequest } from '@filer/engine';
import { isInsideAllowedS3, isInsideRoots, isS3Uri } from '@filer/storage';
import { compileNamer, nameFiles, planLocalMoves, renameRequests, rootIndexOf, sourceIdOf, transferTarget } from '@filer/storage/batch';
import { startApply } from './apply-phase.js';
import type { ClusterContext } from './cluster-context.js';
import { ERROR_SAMPLE_LIMIT, type JobRecord } from './job-record.js';
import { setState } from './job-transition.js';
import { s3Access } from './s3-access.js';

/** rename/copy/move: the same planning as the CLI's, over every matched file, then the plan is stored. */
export async function planBatch(ctx: ClusterContext, rec: JobRecord): Promise<void> {
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
