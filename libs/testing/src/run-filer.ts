import { FILER_BIN } from './repo-paths.js';
import { runProcess, type ProcessResult, type RunProcessOptions } from './run-process.js';

/** Options for `runFiler`: those of `runProcess`, plus an unprivileged user and group to run as (via setpriv). */
export interface RunFilerOptions extends RunProcessOptions {
  asUser?: { user: string; group: string };
}

/** Runs `node apps/cli/bin/filer.js ARGS` (stderr is a pipe, so no progress) and returns its code and output. */
export function runFiler(args: readonly string[], opts: RunFilerOptions = {}): Promise<ProcessResult> {
  const node = process.execPath;
  if (opts.asUser === undefined) return runProcess(node, [FILER_BIN, ...args], opts);
  const { user, group } = opts.asUser;
  return runProcess('setpriv', [`--reuid=${user}`, `--regid=${group}`, '--clear-groups', node, FILER_BIN, ...args], opts);
}
