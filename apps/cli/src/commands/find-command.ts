import { ExitCode, parseFilterSpec, type FileEntry } from '@filer/core';
import {
  formatNeedsStat,
  formatRecord,
  parseFindFormat,
  parseSortKey,
  RecordWriter,
  sortEntries,
  sortNeedsStat,
  type WalkStats,
} from '@filer/engine';
import { openSource, type WalkSource } from '@filer/storage';
import { BrokenPipe } from '@filer/storage/output';
import { checkRootKinds } from './root-kinds.js';
import { invalidArgument } from '@filer/core';
import { filterInputFromFlags } from '../filter-flags.js';
import { reportPathFailure, type CliContext } from '../cli-context.js';
import { formatCount, ProgressLine } from '../progress.js';
import type { CliConfig } from '../config.js';
import type { FindPlan } from './find-plan.js';

export interface FindFlags {
  format: string;
  print0?: boolean;
  sort?: string;
  limit?: string;
  threads?: string;
  progress?: boolean;
  quiet?: boolean;
  [filter: string]: unknown;
}

function parseCount(text: string | undefined, field: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw invalidArgument(field, text, `invalid number '${text}': expected a whole number ≥ ${min}`);
  return Number(text);
}

export function resolveFindPlan(roots: string[], flags: FindFlags): FindPlan {
  const spec = parseFilterSpec(filterInputFromFlags(flags as never));
  const plan: FindPlan = {
    roots,
    format: parseFindFormat(flags.format),
    nul: flags.print0 ?? false,
    sort: flags.sort === undefined ? undefined : parseSortKey(flags.sort),
    limit: parseCount(flags.limit, 'limit', 0),
    threads: parseCount(flags.threads, 'threads', 0),
    spec,
  };
  if (plan.nul && plan.format !== 'paths')
    throw invalidArgument('format', plan.format, `-0 works with --format paths only, not '${plan.format}'`);
  checkRootKinds(roots, 'find');
  return plan;
}

/** Runs a resolved find: walk the roots' source (on all cores when local), one writer, errors on stderr. Returns the exit code. */
export async function runFind(
  plan: FindPlan,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig },
): Promise<number> {
  // Local (native or node:fs) or S3, chosen once; S3 roots are checked here and only they load the AWS SDK.
  const source = await openSource(plan.roots, { native: opts.config.nativeScan });
  try {
    if (!opts.quiet) for (const note of source.notes(plan.spec)) ctx.stderr(`filer: note: ${note}\n`);
    return await findIn(source, plan, ctx, opts);
  } finally {
    source.close();
  }
}

async function findIn(
  source: WalkSource,
  plan: FindPlan,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig },
): Promise<number> {
  const writer = new RecordWriter(plan.format, ctx.stdout);
  let latest: WalkStats | undefined;
  const progress = opts.progress
    ? new ProgressLine(ctx.stderr, (secs) =>
        latest === undefined
          ? undefined
          : `scanned ${formatCount(latest.entries)} entries (${formatCount(Math.round(latest.entries / secs))}/s) · matched ${formatCount(latest.matched)} · errors ${formatCount(latest.errors)}`,
      )
    : undefined;
  const buffered = plan.sort !== undefined || plan.limit !== undefined;
  const collected: FileEntry[] = [];
  let errors = 0;
  let emitted = 0;
  let broken = false;

  const write = (fn: () => void): void => {
    if (broken) return;
    try {
      fn();
    } catch (e) {
      if (!(e instanceof BrokenPipe)) throw e;
      broken = true;
      handle.stop();
    }
  };

  write(() => writer.begin());
  if (plan.limit === 0) {
    write(() => writer.end());
    return ExitCode.Ok;
  }
  const handle = source.walk({
    spec: plan.spec,
    statAll: formatNeedsStat(plan.format) || sortNeedsStat(plan.sort),
    output: buffered ? { kind: 'entries' } : { kind: 'text', format: plan.format, nul: plan.nul },
    threads: plan.threads,
    spawnAfterMs: opts.config.spawnAfterMs,
    onText: (text) => write(() => writer.chunk(text)),
    onEntries: (entries) => {
      if (plan.sort !== undefined) {
        for (const e of entries) collected.push(e);
        return;
      }
      // --limit without --sort: print the first N found and stop the walk.
      const take = entries.slice(0, plan.limit! - emitted);
      emitted += take.length;
      write(() => writer.chunk(take.map((e) => formatRecord(e, plan.format, plan.nul)).join('')));
      if (emitted >= plan.limit!) handle.stop();
    },
    onError: (e) => {
      errors++;
      if (!opts.quiet) reportPathFailure(ctx, e);
    },
    onStats: (s) => (latest = s),
  });
  progress?.start();
  try {
    await handle.done;
  } finally {
    progress?.stop();
  }
  if (plan.sort !== undefined) {
    sortEntries(collected, plan.sort);
    const rows = plan.limit === undefined ? collected : collected.slice(0, plan.limit);
    const CHUNK = 4096;
    for (let i = 0; i < rows.length && !broken; i += CHUNK) {
      write(() =>
        writer.chunk(
          rows
            .slice(i, i + CHUNK)
            .map((e) => formatRecord(e, plan.format, plan.nul))
            .join(''),
        ),
      );
    }
  }
  write(() => writer.end());
  return errors > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}
