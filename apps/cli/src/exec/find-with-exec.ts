import { availableParallelism } from 'node:os';
import { ExitCode, invalidArgument } from '@filer/core';
import type { CliContext } from '../cli-context.js';
import type { FindFlags } from '../commands/find-command.js';
import type { ExecSpec } from './exec-args.js';
import { PathQueue } from '@filer/storage/output';
import { runExec } from './run-exec.js';

/**
 * `filer find … -x|-X CMD`: the find (in-process or through --server) writes its matches as
 * NUL-separated paths into a queue the runs take from while the walk goes on, so commands always
 * run on this machine, never on a cluster's workers. Exit 1 if the find or any run failed.
 */
export async function findWithExec(
  exec: ExecSpec,
  flags: FindFlags,
  formatGiven: boolean,
  ctx: CliContext,
  find: (ctx: CliContext) => Promise<number>,
): Promise<number> {
  if (formatGiven && flags.format !== 'paths')
    throw invalidArgument('format', flags.format, `-x/-X run a command on each path: --format ${flags.format} has no use with them`);
  const jobs = flags.jobs === undefined ? availableParallelism() : Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1)
    throw invalidArgument('execJobs', String(flags.jobs), `invalid number '${String(flags.jobs)}': expected a whole number ≥ 1`);
  // The runs read paths, one a NUL-terminated record, whichever way the find was asked to print.
  flags.format = 'paths';
  flags.print0 = true;
  const queue = new PathQueue();
  const runs = runExec(queue, exec, ctx, jobs);
  try {
    const found = await find({ ...ctx, stdout: (data) => queue.write(data) }).finally(() => queue.close());
    const ran = await runs;
    return found !== ExitCode.Ok ? found : ran;
  } catch (e) {
    await runs;
    throw e;
  } finally {
    queue.dispose();
  }
}
