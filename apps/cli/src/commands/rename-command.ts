import * as path from 'node:path';
import { compileNameReplacer, ExitCode, FilerError, invalidArgument, parseFilterSpec, type FileEntry, type FilterSpec } from '@filer/core';
import {
  comparePaths,
  compileTemplate,
  localWallTime,
  parseOnConflict,
  type CompiledTemplate,
  type DupeFile,
  type DateSource,
  type MoveRequest,
  type OnConflict,
} from '@filer/engine';
import { checkLocalRoots } from '@filer/storage';
import { filterInputFromFlags } from '../filter-flags.js';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { runBatch } from './batch-runner.js';
import { collectFiles } from './collect-files.js';

export interface RenameFlags {
  apply?: boolean;
  to?: string;
  replace?: string;
  with?: string;
  onConflict: string;
  format: string;
  [filter: string]: unknown;
}

/** How a new name is made: a template, or a regex replacement on the base name. */
type Namer = { kind: 'template'; template: CompiledTemplate } | { kind: 'replace'; replace: (name: string) => string };

export interface RenamePlanRequest {
  roots: string[];
  spec: FilterSpec;
  namer: Namer;
  onConflict: OnConflict;
  format: 'text' | 'ndjson';
  apply: boolean;
}

export function resolveRenameRequest(roots: string[], flags: RenameFlags): RenamePlanRequest {
  const spec = parseFilterSpec(filterInputFromFlags(flags as never));
  if (spec.type !== 'file')
    throw invalidArgument('type', String(flags.type), `rename acts on files: --type must be f, not '${flags.type}'`);
  let namer: Namer;
  if (flags.to !== undefined && flags.replace !== undefined)
    throw invalidArgument('to', flags.to, '--to and --replace are alternatives: give one');
  if (flags.to !== undefined) namer = { kind: 'template', template: compileTemplate(flags.to, 'to') };
  else if (flags.replace !== undefined) {
    if (flags.with === undefined) throw invalidArgument('replace', flags.replace, '--replace needs --with STRING');
    namer = { kind: 'replace', replace: compileNameReplacer(flags.replace, flags.with) };
  } else throw invalidArgument('to', '', 'say how to rename: --to TEMPLATE or --replace REGEX --with STRING');
  const onConflict = parseOnConflict(flags.onConflict, 'onConflict');
  if (onConflict === 'overwrite') throw invalidArgument('onConflict', 'overwrite', 'rename never overwrites: use fail, skip or suffix');
  if (flags.format !== 'text' && flags.format !== 'ndjson')
    throw invalidArgument('format', flags.format, `invalid format '${flags.format}': expected text or ndjson`);
  checkLocalRoots(roots);
  return { roots, spec, namer, onConflict, format: flags.format, apply: flags.apply ?? false };
}

interface Named {
  entry: FileEntry;
  target: string;
  dateSource?: DateSource;
}

/** Works out every file's new name: capture dates are read (in parallel) only when the template uses them. */
async function nameFiles(entries: FileEntry[], namer: Namer): Promise<Named[]> {
  if (namer.kind === 'replace') {
    // Joined, not normalised: an empty or '..' name must reach the planner as the invalid name it is.
    return entries.map((entry) => ({ entry, target: path.dirname(entry.path) + '/' + namer.replace(path.basename(entry.path)) }));
  }
  const t = namer.template;
  let captures: Awaited<ReturnType<typeof import('@filer/storage/media').readCaptureDates>> | undefined;
  if (t.needsCapture) {
    const { readCaptureDates } = await import('@filer/storage/media');
    captures = await readCaptureDates(entries.map((e) => e.path));
  }
  let hashes: (string | undefined)[] | undefined;
  if (t.needsHash) {
    // {hash:N}: a prefix of the file's sha256, computed on the hashing threads.
    const { LocalFileHasher } = await import('@filer/storage/hashing');
    const hasher = new LocalFileHasher('sha256');
    try {
      const outcomes = await hasher.hash(entries as DupeFile[], 'full');
      hashes = outcomes.map((o) => ('hash' in o ? o.hash : undefined));
      const failed = outcomes.find((o) => 'error' in o);
      if (failed && 'error' in failed)
        throw new FilerError('E_IO', `cannot hash ${failed.error.path}: ${failed.error.message}`, { path: failed.error.path });
    } finally {
      await hasher.close();
    }
  }
  return entries.map((entry, i) => {
    const capture = captures?.[i];
    const rendered = t.render({
      name: path.basename(entry.path),
      parent: path.basename(path.dirname(entry.path)),
      size: entry.size ?? 0,
      mtime: localWallTime(entry.mtimeMs ?? 0),
      capture,
      counter: i + 1,
      hash: hashes?.[i],
    });
    const target = rendered.startsWith('/') ? rendered : path.dirname(entry.path) + '/' + rendered;
    return { entry, target, dateSource: t.needsCapture ? (capture?.source ?? 'mtime') : undefined };
  });
}

/**
 * `filer rename`: plans every rename and prints the plan with its conflicts; with --apply the plan
 * is journaled and carried out. Files are taken in path order, which is also the order of `{counter}`.
 */
export async function runRenamePlan(req: RenamePlanRequest, ctx: CliContext, opts: { quiet: boolean; config: CliConfig }): Promise<number> {
  const { entries, errors } = await collectFiles(req.roots, req.spec, ctx, {
    ...opts,
    identity: req.namer.kind === 'template' && req.namer.template.needsHash,
  });
  entries.sort((a, b) => comparePaths(a.path, b.path));
  const named = await nameFiles(entries, req.namer);
  const bySource = new Map(named.map((n) => [n.entry.path, n]));
  const requests: MoveRequest[] = named.map((n) => ({ source: n.entry.path, target: n.target, size: n.entry.size ?? 0 }));
  const code = await runBatch(
    ctx,
    requests,
    { kind: 'rename', onConflict: req.onConflict, apply: req.apply, verify: false, format: req.format },
    (source) => {
      const d = bySource.get(source)?.dateSource;
      return d === undefined ? undefined : { dateSource: d };
    },
  );
  return code === ExitCode.Ok && errors > 0 ? ExitCode.PartialFailure : code;
}
