import type { Command } from 'commander';
import type { FilterInput } from '@filer/core';

/** The CLI flag for each FilterInput field, so input errors name what the user typed. */
export const FLAG_OF_FIELD: Record<string, string> = {
  ext: '--ext',
  minSize: '--min-size',
  maxSize: '--max-size',
  newer: '--newer',
  older: '--older',
  name: '--name',
  regex: '--regex',
  exclude: '--exclude',
  type: '--type',
  hidden: '--hidden',
  noIgnore: '--no-ignore',
  maxDepth: '--max-depth',
  follow: '--follow',
  format: '--format',
  sort: '--sort',
  limit: '--limit',
  threads: '--threads',
  hash: '--hash',
  to: '--to',
  replace: '--replace',
  onConflict: '--on-conflict',
  dest: '--dest',
  out: '--out',
  id: 'ID',
  jobs: 'jobs',
  execJobs: '--jobs',
  maxFailures: '--max-failures',
  cache: '--cache',
  roots: 'ROOT',
};

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds the shared filter flags to a command (every job kind takes the same filters). */
export function addFilterFlags(cmd: Command): Command {
  return cmd
    .option('-e, --ext <list>', 'extensions, comma-separated, case-insensitive (csv,log)', collect, [])
    .option('--min-size <size>', 'at least this size (B, K/KB=1000, Ki/KiB=1024, M, Mi, G, Gi, T, Ti)')
    .option('--max-size <size>', 'at most this size')
    .option('--newer <when>', 'modified after: an age (30m, 12h, 7d, 2w) or an ISO date (2024-05-01)')
    .option('--older <when>', 'modified before: an age or an ISO date')
    .option('-n, --name <glob>', 'base name matches the glob (repeatable: any may match)', collect, [])
    .option('--regex <re>', 'base name contains a match of the RE2 regex (linear time, cannot hang)')
    .option('-E, --exclude <glob>', 'skip matching entries and do not descend matching directories (repeatable)', collect, [])
    .option('-t, --type <type>', 'f (file, the default), d (directory) or l (symlink)')
    .option('-H, --hidden', 'include hidden files and directories')
    .option('-I, --no-ignore', 'do not honour .gitignore, .ignore and .filerignore')
    .option('-d, --max-depth <n>', 'descend at most N levels (1 = the root’s children)')
    .option('-L, --follow', 'follow symbolic links (loops are detected and reported)');
}

interface RawFlags {
  ext: string[];
  minSize?: string;
  maxSize?: string;
  newer?: string;
  older?: string;
  name: string[];
  regex?: string;
  exclude: string[];
  type?: string;
  hidden?: boolean;
  ignore: boolean;
  maxDepth?: string;
  follow?: boolean;
}

/** Maps parsed flags onto the FilterInput every entry point shares. */
export function filterInputFromFlags(flags: RawFlags): FilterInput {
  return {
    ext: flags.ext.length > 0 ? flags.ext.join(',') : undefined,
    minSize: flags.minSize,
    maxSize: flags.maxSize,
    newer: flags.newer,
    older: flags.older,
    name: flags.name.length > 0 ? flags.name : undefined,
    regex: flags.regex,
    exclude: flags.exclude.length > 0 ? flags.exclude : undefined,
    type: flags.type,
    hidden: flags.hidden ?? false,
    noIgnore: !flags.ignore,
    maxDepth: flags.maxDepth,
    follow: flags.follow ?? false,
  };
}
