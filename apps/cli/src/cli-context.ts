import { ExitCode, isFilerError, type PathError } from '@filer/core';
import { FLAG_OF_FIELD } from './filter-flags.js';

/** What a command needs from the process, in one place (the edges stay thin and testable). */
export interface CliContext {
  stdout: (data: string | Uint8Array) => void;
  stderr: (text: string) => void;
  stderrIsTTY: boolean;
  /** Set by --log-format json: per-path failures go there as structured lines (see json-log.ts). */
  log?: PathFailureLog;
}

/** A per-path failure as reported: the path, its code and message; the job and target when a job's action failed. */
export interface PathFailure extends PathError {
  jobId?: string;
  target?: string;
}

/** Where per-path failures go with --log-format json. */
export interface PathFailureLog {
  pathFailure(e: PathFailure): void;
}

/**
 * Reports one per-path failure on stderr: `filer: PATH: message [CODE]`, or for a job's action
 * `filer: SOURCE → TARGET: reason`; with --log-format json one JSON line with its fields instead.
 */
export function reportPathFailure(ctx: CliContext, e: PathFailure): void {
  if (ctx.log !== undefined) ctx.log.pathFailure(e);
  else ctx.stderr(e.target === undefined ? formatPathError(e) : `filer: ${e.path} → ${e.target}: ${e.message}\n`);
}

/**
 * The code of a failed action's reason: its errno or Filer code (`EACCES: …`, `copied, but the
 * source was not removed: E_CHANGED: …`); a file standing at the target is EEXIST.
 */
export function codeOfReason(reason = ''): string {
  const code = /^(?:[^:]*: )?(E[A-Z0-9_]+):/.exec(reason)?.[1];
  if (code !== undefined) return code;
  return /^(target exists|the target is a symbolic link)/.test(reason) ? 'EEXIST' : 'E_FAILED';
}
/** An input error as one line naming the flag and the value; nothing has run. */
export class UsageError extends Error {}

export function describeError(e: unknown): { line: string; exit: ExitCode } {
  if (isFilerError(e)) {
    if (
      e.code === 'E_INVALID_ARGUMENT' ||
      e.code === 'E_NOT_FOUND' ||
      e.code === 'E_ROOT_NOT_FOUND' ||
      e.code === 'E_ROOT_NOT_DIRECTORY' ||
      e.code === 'E_REGEX_UNSUPPORTED'
    ) {
      const flag = e.field !== undefined ? (FLAG_OF_FIELD[e.field] ?? e.field) : undefined;
      const prefix = flag !== undefined && flag !== 'ROOT' ? `${flag}: ` : '';
      return { line: `filer: ${prefix}${e.message}`, exit: ExitCode.InvalidInput };
    }
    return { line: `filer: ${e.message}${e.path ? ` (${e.path})` : ''} [${e.code}]`, exit: ExitCode.Aborted };
  }
  if (e instanceof UsageError) return { line: `filer: ${e.message}`, exit: ExitCode.InvalidInput };
  const msg = e instanceof Error ? e.message : String(e);
  return { line: `filer: fatal: ${msg}`, exit: ExitCode.Aborted };
}

/** A per-path failure, one line on stderr: `filer: PATH: message [CODE]`. */
export function formatPathError(e: PathError): string {
  const msg = e.message.replace(/^[A-Z]+: /, '').replace(/, (scandir|lstat|stat|open) '.*'$/, '');
  return `filer: ${JSON.stringify(e.path).slice(1, -1)}: ${msg} [${e.code}]\n`;
}
