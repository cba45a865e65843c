import { spawn } from 'node:child_process';
import { ExitCode } from '@filer/core';
import { BrokenPipe } from '@filer/storage/output';
import type { CliContext } from '../cli-context.js';
import { argsForBatch, argsForOne, expandPlaceholders, hasPlaceholder, type ExecSpec } from './exec-args.js';
import type { PathQueue } from '@filer/storage/output';

/**
 * What one -X run may pass, in bytes of arguments and environment: Linux allows a quarter of the
 * stack limit (2 MiB by default) in all; half of that leaves room for a smaller limit, as xargs does.
 */
export const ARG_BUDGET = 1 << 20;
/** execve counts a pointer and a NUL beside each string. */
const PER_ARG = 9;

interface RunResult {
  ok: boolean;
  stdout: Buffer[];
  stderr: Buffer[];
}

/** State shared by the runs of one find: stops launching once the command cannot start or stdout is gone. */
interface ExecState {
  failed: number;
  stop: boolean;
}

/**
 * Runs a find's -x or -X over the queue's paths while the walk fills it; resolves once every run has
 * ended, with 1 (PartialFailure) if any run exited non-zero, was killed or could not start.
 */
export async function runExec(queue: PathQueue, spec: ExecSpec, ctx: CliContext, jobs: number): Promise<number> {
  const state: ExecState = { failed: 0, stop: false };
  if (spec.mode === 'each') await Promise.all(Array.from({ length: Math.max(1, jobs) }, () => eachWorker(queue, spec, ctx, state)));
  else await batchRuns(queue, spec, ctx, state);
  return state.failed > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

/** -x: one run per path; a run's output is written whole when it ends, so parallel runs never interleave. */
async function eachWorker(queue: PathQueue, spec: ExecSpec, ctx: CliContext, state: ExecState): Promise<void> {
  for (let path = await queue.next(); path !== undefined && !state.stop; path = await queue.next()) {
    const r = await run(spec.argv[0], argsForOne(spec.argv, path), ctx, state, 'buffer');
    if (!r.ok) state.failed++;
    emit(ctx, state, r);
  }
}

/** -X: the paths in batches that stay under ARG_BUDGET, one run after the other, output passed through. */
async function batchRuns(queue: PathQueue, spec: ExecSpec, ctx: CliContext, state: ExecState): Promise<void> {
  const args = spec.argv.slice(1);
  const templated = hasPlaceholder(args) ? args.filter((a) => hasPlaceholder([a])) : ['{}'];
  const fixed =
    envBytes() + [spec.argv[0], ...args.filter((a) => !templated.includes(a))].reduce((n, a) => n + Buffer.byteLength(a) + PER_ARG, 0);
  const costOf = (path: string): number => templated.reduce((n, a) => n + Buffer.byteLength(expandPlaceholders(a, path)) + PER_ARG, 0);
  let batch: string[] = [];
  let size = fixed;
  const flush = async (): Promise<void> => {
    if (batch.length === 0 || state.stop) return;
    const r = await run(spec.argv[0], argsForBatch(spec.argv, batch), ctx, state, 'pass');
    if (!r.ok) state.failed++;
    batch = [];
    size = fixed;
  };
  for (let path = await queue.next(); path !== undefined && !state.stop; path = await queue.next()) {
    const cost = costOf(path);
    if (batch.length > 0 && size + cost > ARG_BUDGET) await flush();
    batch.push(path);
    size += cost;
  }
  await flush();
}

function envBytes(): number {
  let n = 0;
  for (const [k, v] of Object.entries(process.env)) n += Buffer.byteLength(k) + Buffer.byteLength(v ?? '') + 1 + PER_ARG;
  return n;
}

/**
 * Starts one run and waits for it. `buffer` keeps its output for `emit`; `pass` writes it through
 * as it comes (one run at a time). A command that cannot start is reported once and stops the rest.
 */
function run(cmd: string, args: string[], ctx: CliContext, state: ExecState, output: 'buffer' | 'pass'): Promise<RunResult> {
  return new Promise((resolve) => {
    const result: RunResult = { ok: false, stdout: [], stderr: [] };
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (into: Buffer[], write: (b: Buffer) => void) => (b: Buffer) => (output === 'buffer' ? into.push(b) : write(b));
    child.stdout.on(
      'data',
      take(result.stdout, (b) => emit(ctx, state, { ok: true, stdout: [b], stderr: [] })),
    );
    child.stderr.on(
      'data',
      take(result.stderr, (b) => emit(ctx, state, { ok: true, stdout: [], stderr: [b] })),
    );
    let settled = false;
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      if (!state.stop) ctx.stderr(`filer: cannot run '${cmd}': ${e.code === 'ENOENT' ? 'command not found' : e.message} [E_EXEC]\n`);
      state.stop = true;
      resolve(result);
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      result.ok = code === 0;
      if (signal !== null) ctx.stderr(`filer: '${cmd}' was killed by ${signal}\n`);
      resolve(result);
    });
  });
}

/** Writes a run's output; a closed stdout stops further runs instead of failing them one by one. */
function emit(ctx: CliContext, state: ExecState, r: RunResult): void {
  try {
    for (const b of r.stdout) ctx.stdout(b);
  } catch (e) {
    if (!(e instanceof BrokenPipe)) throw e;
    state.stop = true;
  }
  if (r.stderr.length > 0) ctx.stderr(Buffer.concat(r.stderr).toString());
}
