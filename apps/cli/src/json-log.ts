import type { CliContext, PathFailure } from './cli-context.js';

/**
 * `--log-format json` (or FILER_LOG_FORMAT=json): everything filer writes to stderr becomes one
 * JSON object per line, written by pino in its usual format (`level`, `time`, `pid`, `hostname`,
 * `name`, `msg`), for log collectors. A per-path failure is an `error` (50) with its fields —
 * `jobId` (when a job's action or its plan left the path out), `code`, `path`, `target` — and
 * every other line (plans' summaries, job counts, fatal errors) an `info` (30) with the text.
 * Progress bars are off. Loaded only when asked for.
 */
export async function useJsonLog(ctx: CliContext): Promise<void> {
  const { pino } = await import('pino');
  const log = pino(
    { name: 'filer', base: { pid: process.pid, hostname: (await import('node:os')).hostname() }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 2, sync: true }),
  );
  ctx.stderr = (text) => {
    for (const line of text.split('\n')) if (line !== '') log.info(line.replace(/^filer: /, ''));
  };
  ctx.stderrIsTTY = false;
  ctx.log = {
    pathFailure: ({ path, code, message, jobId, target }: PathFailure) =>
      log.error({ ...(jobId === undefined ? {} : { jobId }), code, path, ...(target === undefined ? {} : { target }) }, message),
  };
}
