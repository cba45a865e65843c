import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileEntry } from '@filer/core';
import type { Conflict } from '@filer/engine';
import { admitJob, submitJob, QUEUES, type ClusterContext, type JobRecord } from '@filer/jobs';
import { isInsideAllowed, openSink } from '@filer/storage';
import { batchRequests, batchTargets, compileNamer, planLocalMoves, type BatchRequestSpec } from '@filer/storage/batch';
import { startInProcessCluster, waitFor, type InProcessCluster } from './cluster-harness.js';

/**
 * The plan phase as it was, every record in memory (batchRequests, the local planner, the
 * outside-root filter over the arrays): the oracle the plan store's plan must equal byte for byte.
 */
async function planInMemory(ctx: ClusterContext, rec: JobRecord): Promise<{ plan: string; ids: string; summary: JobRecord['plan'] }> {
  const { spec } = rec;
  const entries: FileEntry[] = [];
  for await (const line of ctx.results.lines(rec.id, 'scan')) entries.push(JSON.parse(line) as FileEntry);
  const batch: BatchRequestSpec =
    spec.kind === 'rename'
      ? { kind: 'rename', roots: spec.roots, namer: compileNamer(spec.options) }
      : { kind: spec.kind as 'copy' | 'move', roots: spec.roots, dest: spec.options.dest!, flatten: spec.options.flatten ?? false };
  const sink = await openSink(spec.roots, batchTargets(batch));
  const { requests, dateSources } = await batchRequests(batch, entries, { naming: sink.naming });
  const plan = planLocalMoves(requests, spec.options.onConflict ?? 'fail');
  const allowed = (t: string): boolean => isInsideAllowed(t, ctx.allowedRoots, ctx.config.allowedS3);
  const outside: Conflict[] = plan.actions
    .filter((a) => !allowed(a.target))
    .map((a) => ({ kind: 'outside-root', source: a.source, target: a.target, detail: 'target lies outside the allowed roots' }));
  const actions = plan.actions.filter((a) => allowed(a.target));
  const lines = [
    ...actions.map((a) =>
      JSON.stringify({
        action: spec.kind,
        source: a.source,
        target: a.target,
        size: a.size,
        ...(a.overwrite ? { overwrite: true } : {}),
        ...(dateSources.has(a.source) ? { dateSource: dateSources.get(a.source) } : {}),
      }),
    ),
    ...[...plan.conflicts, ...outside].map((c) => JSON.stringify({ action: 'conflict', ...c })),
  ];
  return {
    plan: lines.map((l) => l + '\n').join(''),
    ids: actions.map((a) => JSON.stringify(a.sourceId ?? null) + '\n').join(''),
    summary: {
      actions: actions.length,
      conflicts: plan.conflicts.length + outside.length,
      bytes: plan.bytes,
      unchanged: plan.unchanged,
      skipped: plan.skipped,
    },
  };
}

describe('the plan phase through the plan store', () => {
  let cluster: InProcessCluster;
  let ctx: ClusterContext;
  let root: string;
  let results: string;
  let n = 0;

  beforeAll(async () => {
    const tree: Record<string, string> = {};
    for (let d = 0; d < 4; d++) for (let f = 0; f < 30; f++) tree[`src/d${d}/f${f}.txt`] = `content ${d}-${f}`;
    // A destination with some of the targets there already (conflicts, overwrites, suffixes).
    for (let f = 0; f < 30; f += 7) tree[`dest/d1/f${f}.txt`] = 'there before';
    tree['dest/d2/f3 (1).txt'] = 'a suffix taken';
    // Renames onto each other (a chain, a swap) and two onto one name.
    for (const name of ['2.txt', '3.txt', '4.txt', 'a1.md', 'a2.md', 'b.md']) tree[`ren/${name}`] = name;
    cluster = await startInProcessCluster({
      prefix: 'filer-plan-eq-',
      tree,
      env: { FILER_SHARD_BUDGET: '100' },
      queues: [QUEUES.scan, QUEUES.finalize],
    });
    ({ ctx, root, results } = cluster);
  });

  afterAll(() => cluster.stop());

  /** Plans the job (the cluster's plan phase, run by the finalizer), then compares its parts and record with the oracle's. */
  const same = async (raw: Record<string, unknown>, allowedRoots?: string[]): Promise<JobRecord> => {
    const spec = admitJob(raw, ctx.allowedRoots);
    const all = ctx.allowedRoots;
    if (allowedRoots !== undefined) ctx.allowedRoots = allowedRoots;
    try {
      const job = await submitJob(ctx, spec);
      const rec = await waitFor(ctx, job.id, ['planned', 'failed']);
      expect(rec.state, rec.message).toBe('planned');
      const want = await planInMemory(ctx, rec);
      expect(fs.readFileSync(path.join(results, job.id, 'plan', 'all.ndjson'), 'utf8')).toBe(want.plan);
      expect(fs.readFileSync(path.join(results, job.id, 'plan-ids', 'all.ndjson'), 'utf8')).toBe(want.ids);
      expect(rec.plan).toEqual(want.summary);
      expect(rec.results).toBe(want.summary!.actions + want.summary!.conflicts);
      return rec;
    } finally {
      ctx.allowedRoots = all;
    }
  };

  for (const onConflict of ['fail', 'skip', 'suffix', 'overwrite'])
    it(`a copy onto existing targets (--on-conflict ${onConflict}) writes the plan the in-memory planner wrote`, async () => {
      const rec = await same({ kind: 'copy', roots: [root + '/src'], options: { dest: root + '/dest', onConflict } });
      expect(rec.plan!.actions + rec.plan!.conflicts + rec.plan!.skipped).toBeGreaterThanOrEqual(120);
      if (onConflict === 'fail') expect(rec.plan!.conflicts).toBe(5);
    });

  it('a copy, a move and a flattened copy into a fresh destination, two roots', async () => {
    for (const kind of ['copy', 'move'])
      await same({ kind, roots: [root + '/src/d0', root + '/src/d3'], options: { dest: `${root}/fresh-${n++}` } });
    // Flattened: every d*/fN.txt onto one fN.txt, the later ones conflicts.
    const flat = await same({ kind: 'copy', roots: [root + '/src'], options: { dest: `${root}/flat-${n++}`, flatten: true } });
    expect(flat.plan).toMatchObject({ actions: 30, conflicts: 90 });
  });

  it('targets outside the allowed roots are refused per action, after the planner’s own conflicts, in plan order', async () => {
    // Allowed: the sources and the destination's d1 only; d1's existing targets are the planner's conflicts.
    const rec = await same({ kind: 'copy', roots: [root + '/src'], options: { dest: root + '/dest' } }, [root + '/src', root + '/dest/d1']);
    expect(rec.plan).toMatchObject({ actions: 25, conflicts: 5 + 90 });
    const lines = fs
      .readFileSync(path.join(results, rec.id, 'plan', 'all.ndjson'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ action: 'conflict', kind: 'outside-root', target: root + '/dest/d3/f9.txt' });
  });

  it('renames: numbered in path order, a chain ordered, two onto one name refused, dates named', async () => {
    await same({ kind: 'rename', roots: [root + '/src'], options: { to: '{counter}-{name}' } });
    await same({ kind: 'rename', roots: [root + '/src'], options: { to: '{date:YYYY}-{name}' } });
    // 2→1, 3→2, 4→3 (a chain, ordered so that nothing is overwritten); a1.md, a2.md, b.md → 4…6.
    const chain = await same({ kind: 'rename', roots: [root + '/ren'], options: { to: '{counter}.txt' } });
    expect(chain.plan!.actions).toBe(6);
    const two = await same({ kind: 'rename', roots: [root + '/ren'], options: { replace: 'a\\d', with: 'a' } });
    expect(two.plan!.conflicts).toBe(1);
  });
});
