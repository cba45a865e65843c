import { Command, CommanderError, Option } from 'commander';
import { ExitCode, invalidArgument } from '@filer/core';
import { addFilterFlags } from './filter-flags.js';
import { describeError, type CliContext } from './cli-context.js';
import { readCliConfig } from './config.js';
import type { FindFlags } from './commands/find-command.js';
import type { DupesFlags } from './commands/dupes-command.js';
import type { DedupeFlags } from './commands/dedupe-request.js';
import type { RenameFlags } from './commands/rename-command.js';
import type { TransferFlags } from './commands/transfer-command.js';
import type { ManifestFlags } from './commands/manifest-command.js';
import type { RemoteKind, RemoteOptions } from './remote/remote-command.js';
import { splitExec, type ExecSpec } from './exec/exec-args.js';
import type { ProgressMode } from './progress.js';

interface Globals {
  logFormat?: 'text' | 'json';
  progress?: boolean;
  progressFormat?: 'text' | 'json';
  quiet?: boolean;
  server?: string;
  token?: string;
}

/** Whether the command runs through an API: --server, or FILER_SERVER in the environment. */
function serverOf(globals: Globals): string | undefined {
  const server = globals.server ?? process.env.FILER_SERVER;
  return server === undefined || server === '' ? undefined : server;
}

/** How a batch job shows its progress: JSON lines when asked, else a line when asked or on a terminal. */
function progressMode(globals: Globals, ctx: CliContext): ProgressMode {
  if (globals.progressFormat === 'json' && globals.progress !== false) return 'json';
  return (globals.progress ?? ctx.stderrIsTTY) ? 'text' : 'off';
}

/** `--progress=json` and `--progress=text` are `--progress --progress-format F`: commander's optional values would eat the command's name. */
function expandProgress(argv: readonly string[]): string[] {
  return argv.flatMap((a) =>
    /^--progress=(text|json)$/.test(a) ? ['--progress', '--progress-format', a.slice('--progress='.length)] : [a],
  );
}

/** Runs a command on the API named by --server; the flags mean the same as in-process. */
async function remote(
  ctx: CliContext,
  kind: RemoteKind,
  roots: string[],
  flags: Record<string, unknown>,
  globals: Globals,
): Promise<number> {
  const { runRemote } = await import('./remote/remote-command.js');
  return runRemote(kind, roots, flags, remoteOptions(ctx, globals), ctx);
}

function remoteOptions(ctx: CliContext, globals: Globals): RemoteOptions {
  return {
    server: serverOf(globals)!,
    token: globals.token ?? process.env.FILER_TOKEN,
    progress: progressMode(globals, ctx) === 'text',
    quiet: globals.quiet ?? false,
  };
}

/** A repeatable flag's values, in the order given. */
const collectFlag = (value: string, previous: string[]): string[] => [...previous, value];

/** `dupes --dirs` is a report of this machine's duplicates: never with --action, nor through a cluster. */
function refuseDirsWith(flags: DedupeFlags, server: string | undefined): void {
  if (flags.action !== undefined)
    throw invalidArgument(
      'dirs',
      `--action ${flags.action}`,
      '--dirs and --action cannot be combined: --dirs is a report of directories, it acts on nothing',
    );
  if (server !== undefined) throw invalidArgument('dirs', 'true', '--dirs runs on this machine only: a cluster reports duplicate files');
}

/** Flags the API does not take yet: refused through --server rather than silently dropped. */
function refuseLocalOnly<F extends { maxFailures?: unknown }>(flags: F): F {
  if (flags.maxFailures !== undefined)
    throw invalidArgument(
      'maxFailures',
      String(flags.maxFailures),
      '--max-failures runs on this machine only: the API has no failure limit yet',
    );
  return flags;
}

/** Builds the `filer` command line. Every failure to parse is a one-line usage error (exit 2). */
export function buildProgram(ctx: CliContext, setExit: (code: number) => void, exec?: ExecSpec): Command {
  const program = new Command('filer')
    .description('Find, de-duplicate, rename, copy/move and report on file trees of any size.')
    .version('0.1.0')
    .option('--progress', 'show progress on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'never show progress')
    .addOption(
      new Option('--progress-format <format>', 'text: one self-rewriting line; json: one JSON line a second (--progress=json)').choices([
        'text',
        'json',
      ]),
    )
    .option('-q, --quiet', 'do not print per-path errors (the exit code still tells)')
    .option('--server <url>', 'run the job on a Filer API instead of in this process (or FILER_SERVER)')
    .option('--token <token>', 'bearer token for --server (or FILER_TOKEN)')
    .addOption(
      new Option('--log-format <format>', 'stderr as text lines, or JSON lines for log collectors (or FILER_LOG_FORMAT)').choices([
        'text',
        'json',
      ]),
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout(s),
      writeErr: (s) => ctx.stderr(s),
      outputError: (s, write) => write(`filer: ${s.replace(/^error: /, '')}`),
    })
    .hook('preAction', async () => {
      const format = (program.opts() as Globals).logFormat ?? readCliConfig().logFormat;
      if (format === 'json') await (await import('./json-log.js')).useJsonLog(ctx);
    });

  const find = addFilterFlags(
    program
      .command('find')
      .description('list files under each ROOT that match the filters')
      .argument('<root...>', 'directories to search')
      .addOption(new Option('-f, --format <format>', 'output format').choices(['paths', 'ndjson', 'csv', 'json']).default('paths'))
      .option('-0, --print0', 'separate paths with NUL instead of newline (paths format)')
      .addOption(new Option('--sort <key>', 'sort results (buffers the matches)').choices(['path', 'size', 'mtime']))
      .option('--limit <n>', 'stop after N results')
      // Never parsed by commander: splitExec takes these and their command out first (listed for --help).
      .option('-x, --exec <cmd...>', 'run CMD once per match, in parallel; {} {/} {//} {.} {/.} as in fd; ends at ";" or the line\'s end')
      .option('-X, --exec-batch <cmd...>', 'run CMD once with all matches (in batches under the argument limit)')
      .option('-j, --jobs <n>', 'with -x: runs at once (default: the number of CPUs)')
      .addOption(new Option('--threads <n>', 'walker threads (0 = walk on the main thread)').hideHelp()),
  );
  find.exitOverride().action(async (roots: string[], flags: FindFlags, cmd: Command) => {
    const globals = cmd.optsWithGlobals() as Globals;
    const runOne = async (c: CliContext): Promise<number> => {
      if (serverOf(globals) !== undefined) return remote(c, 'find', roots, flags, globals);
      // Each command loads its own modules: `find` never pays for SQLite or the hashers.
      const { resolveFindPlan, runFind } = await import('./commands/find-command.js');
      const plan = resolveFindPlan(roots, flags);
      const progress = progressMode(globals, c) === 'text';
      return runFind(plan, c, { progress, quiet: globals.quiet ?? false, config: readCliConfig() });
    };
    if (exec === undefined) return setExit(await runOne(ctx));
    const { findWithExec } = await import('./exec/find-with-exec.js');
    setExit(await findWithExec(exec, flags, cmd.getOptionValueSource('format') === 'cli', ctx, runOne));
  });
  const dupes = addFilterFlags(
    program
      .command('dupes')
      .description('report groups of files with identical content, most wasted space first')
      .argument('<root...>', 'directories (or s3://bucket/prefix/) to search')
      .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'ndjson', 'csv', 'json']).default('text'))
      .addOption(
        new Option('--hash <algorithm>', 'content hash: xxh128 (fast) or sha256 (cryptographic)')
          .choices(['xxh128', 'sha256'])
          .default('xxh128'),
      )
      .option('--cache <path>', 'hash cache database (default: $XDG_CACHE_HOME/filer/filer.db; not used for S3)')
      .option('--no-cache', 'neither read nor write the hash cache')
      .option('--include-empty', 'report empty files as duplicates of each other')
      .option('--dirs', 'report directories instead: equal ones, and those whose files all have copies elsewhere (a report only)')
      .option(
        '--action <action>',
        'act on each copy but the one kept: hardlink | symlink | remove | move-to | reflink (a plan; --apply carries it out; on S3 remove and move-to only)',
      )
      .option(
        '--move-to <dir>',
        'for --action move-to: the directory (an s3:// prefix for S3 roots) copies are moved under (their path below their root kept)',
      )
      .option(
        '--keep <rule>',
        'which copy stays: oldest, newest, shortest-path, longest-path, first-root, path:GLOB (repeatable; first that decides wins, then path order)',
        collectFlag,
        [],
      )
      .option('--reference <root>', 'a root (also given as ROOT) whose files are never acted on (repeatable)', collectFlag, [])
      .option('--isolate', 'only duplicates across different roots count')
      .option('--ignore-perms', 'for hardlink: link files whose owner, group or mode differ')
      .option(
        '--apply',
        'journal the dedupe plan and carry it out (undo with filer jobs undo ID, empty the quarantine with filer jobs purge ID)',
      ),
  );
  dupes.exitOverride().action(async (roots: string[], flags: DupesFlags & DedupeFlags, cmd: Command) => {
    const globals = cmd.optsWithGlobals() as Globals;
    const { resolveDedupeRequest } = await import('./commands/dedupe-request.js');
    if (flags.dirs === true) refuseDirsWith(flags, serverOf(globals));
    if (serverOf(globals) !== undefined) {
      // The cluster checks the rest (roots, reference roots, --move-to) on its side, as resolveDedupeRequest does here.
      if (flags.action !== undefined && flags.format === 'csv')
        throw invalidArgument('format', 'csv', 'a dedupe plan prints as text, ndjson or json (not csv)');
      return setExit(await remote(ctx, 'dupes', roots, flags, globals));
    }
    const config = readCliConfig();
    const { resolveDupesPlan, runDupes } = await import('./commands/dupes-command.js');
    const plan = resolveDupesPlan(roots, flags);
    const req = resolveDedupeRequest(roots, flags, flags.format);
    const opts = { progress: progressMode(globals, ctx) === 'text', quiet: globals.quiet ?? false, config };
    if (flags.dirs === true) {
      const { runDupeDirs } = await import('./commands/dupes-dirs.js');
      return setExit(await runDupeDirs(plan, ctx, opts));
    }
    if (req === undefined) return setExit(await runDupes(plan, ctx, opts));
    const { runDedupe } = await import('./commands/dedupe-command.js');
    setExit(await runDedupe(plan, req, ctx, opts));
  });
  const rename = addFilterFlags(
    program
      .command('rename')
      .description('plan new names for files (by template or regex) and show the plan; nothing changes')
      .argument('<root...>', 'directories (or s3://bucket/prefix/) holding the files')
      .option('--to <template>', 'new name: {name} {stem} {ext} {parent} {size} {mtime:FMT} {date:FMT} {counter:W}; may contain /')
      .option('--replace <regex>', 'replace matches in the base name (RE2; $1 for groups)')
      .option('--with <string>', 'replacement for --replace')
      .addOption(new Option('--on-conflict <policy>', 'what a conflict does').choices(['fail', 'skip', 'suffix']).default('fail'))
      .addOption(new Option('-f, --format <format>', 'plan format').choices(['text', 'ndjson']).default('text'))
      .option('--apply', 'journal the plan and carry it out (undo with filer jobs undo ID)')
      .option('--max-failures <limit>', 'stop the apply once more than N items (or P% of at least 1,000 tried) failed; resume continues'),
  );
  rename.exitOverride().action(async (roots: string[], flags: RenameFlags, cmd: Command) => {
    const globals = cmd.optsWithGlobals() as Globals;
    if (serverOf(globals) !== undefined) return setExit(await remote(ctx, 'rename', roots, refuseLocalOnly(flags), globals));
    const config = readCliConfig();
    const { resolveRenameRequest, runRenamePlan } = await import('./commands/rename-command.js');
    setExit(
      await runRenamePlan(resolveRenameRequest(roots, flags), ctx, {
        quiet: globals.quiet ?? false,
        config,
        progress: progressMode(globals, ctx),
      }),
    );
  });
  for (const kind of ['copy', 'move'] as const) {
    const cmd = addFilterFlags(
      program
        .command(kind)
        .description(`${kind} files under each ROOT to --dest, keeping the tree below the root (or --flatten); plan first`)
        .argument('<root...>', 'directories holding the files')
        .option('--dest <dir>', 'destination directory')
        .option('--flatten', 'put every file directly in --dest')
        .option('--apply', 'journal the plan and carry it out (undo with filer jobs undo ID)')
        .option('--max-failures <limit>', 'stop the apply once more than N items (or P% of at least 1,000 tried) failed; resume continues')
        .option('--verify', 'check each copy with sha256 before it is linked into place')
        .addOption(
          new Option('--on-conflict <policy>', 'what a conflict does').choices(['fail', 'skip', 'suffix', 'overwrite']).default('fail'),
        )
        .addOption(new Option('-f, --format <format>', 'plan format').choices(['text', 'ndjson']).default('text'))
        .option('--no-space-check', 'skip the free-space check (bytes and inodes) before copying; a full disk stops the job instead'),
    );
    // A move removes each source once its copy is durable: only a copy may skip the flush.
    if (kind === 'copy')
      cmd.option(
        '--no-fsync',
        'leave the copies to the kernel’s writeback, as cp and rsync do (a power cut may lose them; the sources stay)',
      );
    cmd.exitOverride().action(async (roots: string[], flags: TransferFlags, c: Command) => {
      const globals = c.optsWithGlobals() as Globals;
      if (serverOf(globals) !== undefined) return setExit(await remote(ctx, kind, roots, refuseLocalOnly(flags), globals));
      const config = readCliConfig();
      const { resolveTransfer, runTransfer } = await import('./commands/transfer-command.js');
      setExit(
        await runTransfer(resolveTransfer(kind, roots, flags), ctx, {
          quiet: globals.quiet ?? false,
          config,
          progress: progressMode(globals, ctx),
        }),
      );
    });
  }
  const manifest = addFilterFlags(
    program
      .command('manifest')
      .description('write a manifest of the files under each ROOT: path, type, size, mtime (and sha256)')
      .argument('<root...>', 'directories (or s3://bucket/prefix/) to list')
      .option('--out <file>', 'a new file or s3://bucket/key to write (never overwritten), or - for stdout')
      .option('--hash', 'add each file’s sha256')
      .addOption(new Option('-f, --format <format>', 'manifest format').choices(['csv', 'ndjson', 'json']).default('csv')),
  );
  manifest.exitOverride().action(async (roots: string[], flags: ManifestFlags, c: Command) => {
    const globals = c.optsWithGlobals() as Globals;
    const server = serverOf(globals);
    const config = readCliConfig();
    const { resolveManifest, runManifest } = await import('./commands/manifest-command.js');
    const req = resolveManifest(roots, flags, { remote: server !== undefined });
    // Through --server the cluster lists (a manifest job) and hashes (--hash); the entries are rendered and written here.
    const collect =
      server === undefined
        ? undefined
        : async () => {
            const { collectRemote } = await import('./remote/remote-command.js');
            return collectRemote(roots, flags, remoteOptions(ctx, globals), ctx);
          };
    setExit(await runManifest(req, ctx, { quiet: globals.quiet ?? false, config, collect }));
  });
  program
    .command('jobs')
    .description(
      'list, show, resume or undo the jobs applied from this machine (with --server: the cluster’s, and cancel, delete, find-path)',
    )
    .argument(
      '<verb>',
      'list | show | resume | retry | undo | purge | cancel | delete | find-path (cancel, delete, find-path: --server only)',
    )
    .argument('[id]', 'job id (from filer jobs list); for find-path, the path of a file')
    .addOption(
      new Option('-f, --format <format>', 'for list, show and find-path (csv: the per-item report of show)')
        .choices(['text', 'ndjson', 'csv'])
        .default('text'),
    )
    .option('--no-space-check', 'for resume: skip the free-space check before copying')
    .option('--max-failures <limit>', 'for resume and retry: stop once more than N items (or P% of at least 1,000 tried) failed')
    .option('--force', 'for delete: also a job that can still be undone (its undo is lost)')
    .exitOverride()
    .action(
      async (
        verb: string,
        id: string | undefined,
        flags: { format: string; spaceCheck: boolean; force?: boolean; maxFailures?: string },
        c: Command,
      ) => {
        const globals = c.optsWithGlobals() as Globals;
        if (serverOf(globals) !== undefined) {
          refuseLocalOnly(flags);
          if (flags.format === 'csv')
            throw invalidArgument(
              'format',
              'csv',
              '--format csv (the per-item report) is for this machine’s jobs: not yet through --server',
            );
          const { runRemoteJobs } = await import('./remote/remote-jobs.js');
          return setExit(await runRemoteJobs(ctx, verb, id, flags.format, remoteOptions(ctx, globals), { force: flags.force }));
        }
        const { runJobs } = await import('./commands/jobs-command.js');
        setExit(
          await runJobs(ctx, verb, id, {
            format: flags.format,
            spaceCheck: flags.spaceCheck,
            config: readCliConfig(),
            progress: progressMode(globals, ctx),
            maxFailures: flags.maxFailures,
          }),
        );
      },
    );
  return program;
}

/** Runs the CLI and returns its exit code; never throws. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let code: number = ExitCode.Ok;
  try {
    const split = splitExec(expandProgress(argv));
    const program = buildProgram(ctx, (c) => (code = c), split.exec);
    await program.parseAsync(split.argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is bad usage.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.Ok;
      return ExitCode.InvalidInput;
    }
    const { line, exit } = describeError(e);
    ctx.stderr(line + '\n');
    return exit;
  }
}
