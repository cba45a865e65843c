import { invalidArgument } from '@filer/core';

/** `find -x CMD…` runs CMD once per match; `-X CMD…` once with all matches (in batches under the argument limit). */
export interface ExecSpec {
  mode: 'each' | 'batch';
  /** The command and its arguments as given, placeholders unexpanded. */
  argv: string[];
}

const EACH_FLAGS = new Set(['-x', '--exec']);
const BATCH_FLAGS = new Set(['-X', '--exec-batch']);
/** Global options whose value is the next argument, so that value is never taken for the command word. */
const GLOBALS_WITH_VALUE = new Set(['--server', '--token', '--log-format']);

/**
 * Takes `-x`/`--exec` and `-X`/`--exec-batch` with their command out of a `find` command line, as fd
 * does: the command is every argument after the flag up to a lone `;` or the end, so it may hold
 * options of its own (`-x rm -v {}`). Other commands' lines are returned unchanged. Throws
 * E_INVALID_ARGUMENT for an empty command or for both flags, before anything runs.
 */
export function splitExec(argv: readonly string[]): { argv: string[]; exec?: ExecSpec } {
  const command = commandIndex(argv);
  if (command < 0 || argv[command] !== 'find') return { argv: [...argv] };
  const rest: string[] = argv.slice(0, command + 1);
  let exec: ExecSpec | undefined;
  for (let i = command + 1; i < argv.length; i++) {
    const arg = argv[i];
    const mode = EACH_FLAGS.has(arg) ? 'each' : BATCH_FLAGS.has(arg) ? 'batch' : undefined;
    if (mode === undefined) {
      rest.push(arg);
      continue;
    }
    if (exec !== undefined) throw invalidArgument(arg, arg, 'only one of -x/--exec and -X/--exec-batch may be given');
    const end = argv.indexOf(';', i + 1);
    const cmd = argv.slice(i + 1, end < 0 ? argv.length : end);
    if (cmd.length === 0 || cmd[0] === '') throw invalidArgument(arg, arg, `needs a command to run (e.g. ${arg} echo {})`);
    exec = { mode, argv: cmd };
    i = end < 0 ? argv.length : end;
  }
  return exec === undefined ? { argv: rest } : { argv: rest, exec };
}

/** Where the subcommand's name stands: the first argument that is not a global option or its value. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (GLOBALS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return i;
  }
  return -1;
}

const PLACEHOLDER = /\{(\/\/|\/\.|\/|\.)?\}/g;

/** Whether any argument holds one of fd's placeholders; without one, the path is appended. */
export function hasPlaceholder(args: readonly string[]): boolean {
  return args.some((a) => new RegExp(PLACEHOLDER.source).test(a));
}

/**
 * fd's placeholders for one path: `{}` the path, `{/}` its base name, `{//}` its parent, `{.}` the
 * path and `{/.}` the base name without the extension (a leading dot is no extension).
 */
export function expandPlaceholders(arg: string, path: string): string {
  return arg.replace(PLACEHOLDER, (_m, kind: string | undefined) => {
    switch (kind) {
      case '/':
        return baseName(path);
      case '//':
        return parentOf(path);
      case '.':
        return path.slice(0, path.length - extensionOf(path).length);
      case '/.': {
        const base = baseName(path);
        return base.slice(0, base.length - extensionOf(base).length);
      }
      default:
        return path;
    }
  });
}

function baseName(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function parentOf(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const slash = trimmed.lastIndexOf('/');
  return slash < 0 ? '.' : slash === 0 ? '/' : trimmed.slice(0, slash);
}

/** The extension with its dot, of the base name only; `.bashrc` and `a.` have none beyond what they show. */
function extensionOf(path: string): string {
  const base = baseName(path);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot);
}

/** One run's arguments for -x: each argument expanded, or the path appended when none has a placeholder. */
export function argsForOne(template: readonly string[], path: string): string[] {
  const args = template.slice(1);
  return hasPlaceholder(args) ? args.map((a) => expandPlaceholders(a, path)) : [...args, path];
}

/**
 * One run's arguments for -X: an argument with a placeholder is repeated once per path, expanded
 * for it (fd's `-X`); without any placeholder the paths follow the arguments.
 */
export function argsForBatch(template: readonly string[], paths: readonly string[]): string[] {
  const args = template.slice(1);
  if (!hasPlaceholder(args)) return [...args, ...paths];
  const out: string[] = [];
  for (const a of args) {
    if (new RegExp(PLACEHOLDER.source).test(a)) for (const p of paths) out.push(expandPlaceholders(a, p));
    else out.push(a);
  }
  return out;
}
