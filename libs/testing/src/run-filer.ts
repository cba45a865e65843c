import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FILER_BIN } from './repo-paths.js';
import { runProcess, type ProcessResult, type RunProcessOptions } from './run-process.js';

/** Options for `runFiler`: those of `runProcess`, plus an unprivileged user and group to run as (via setpriv; the child refuses to run as root). */
export interface RunFilerOptions extends RunProcessOptions {
  asUser?: { user: string; group: string };
}

let sharedCache: string | undefined;

/**
 * A cache directory of this test process's own, for runs that name none: a test must never read
 * or migrate the state database of the user running it (~/.cache/filer/filer.db). Shared by the
 * runs of one test file, so a warm rerun still finds what the first run stored.
 */
function testCache(): string {
  if (sharedCache === undefined) {
    sharedCache = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-test-cache-'));
    fs.chmodSync(sharedCache, 0o1777); // runs as nobody use it too
    process.once('exit', () => fs.rmSync(sharedCache!, { recursive: true, force: true }));
  }
  return sharedCache;
}

/** Runs `node apps/cli/bin/filer.js ARGS` (stderr is a pipe, so no progress) and returns its code and output. */
export function runFiler(args: readonly string[], opts: RunFilerOptions = {}): Promise<ProcessResult> {
  const node = process.execPath;
  const named = opts.env?.XDG_CACHE_HOME !== undefined || process.env.XDG_CACHE_HOME !== undefined;
  const env = named ? opts.env : { ...opts.env, XDG_CACHE_HOME: testCache() };
  if (opts.asUser === undefined) return runProcess(node, [FILER_BIN, ...args], { ...opts, env });
  const { user, group } = opts.asUser;
  // The child checks that it really dropped root before it becomes filer (exec: the same process),
  // or a permission test would pass vacuously: root reads and writes through any mode.
  const notRoot = 'if [ "$(id -u)" = 0 ]; then echo "runFiler: still root after setpriv" >&2; exit 125; fi; exec "$@"';
  return runProcess(
    'setpriv',
    [`--reuid=${user}`, `--regid=${group}`, '--clear-groups', 'sh', '-c', notRoot, 'sh', node, FILER_BIN, ...args],
    { ...opts, env },
  );
}
