import { ExitCode, invalidArgument } from '@filer/core';
import { isS3Uri } from '@filer/storage';
import { DUPES_SPILL_AFTER, DupeDirsOnDisk, otherEntries } from '@filer/storage/dupes';
import { defaultStatePath } from '@filer/storage/state';
import {
  DUPE_DIRS_CSV_HEADER,
  DUPLICATED_DIRS_TEXT_HEADING,
  dupeDirsSummaryText,
  duplicatedDirToCsv,
  duplicatedDirToJson,
  duplicatedDirToText,
  equalDirsToCsv,
  equalDirsToJson,
  equalDirsToText,
  findDupeDirs,
  type DupeGroup,
  type DuplicatedDir,
  type EqualDirGroup,
} from '@filer/engine';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { searchDupes } from './dupes-command.js';
import type { DupesPlan } from './dupes-plan.js';

// `filer dupes ROOT… --dirs`: the duplicate search as for the report, then equal directories and
// directories whose files all have copies elsewhere, from its groups. No file is read again: the
// directories holding a duplicate (and those above them) are listed once more, to learn which
// other entries they hold. Up to the dupes spill bound of grouped files (FILER_DUPES_SPILL_AFTER,
// 200,000) in memory (the engine's findDupeDirs); above it the directories and their entries are
// rows of a scratch SQLite file (DupeDirsOnDisk, the same rules, about twice the CPU time), so
// memory holds no record per file, and the report is printed as it is read from it.

export async function runDupeDirs(
  plan: DupesPlan,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig },
): Promise<number> {
  const s3 = plan.roots.find(isS3Uri);
  if (s3 !== undefined) throw invalidArgument('dirs', s3, '--dirs compares local directories: S3 prefixes are not supported yet');
  const result = await searchDupes(plan, ctx, opts);
  // Paths as the walk wrote them (ROOT + '/' + name…), so roots are only stripped of a trailing slash.
  const roots = plan.roots.map((r) => r.replace(/(.)\/+$/, '$1'));
  const grouped = result.groups.reduce((n, g) => n + g.paths.length, 0);
  if (grouped <= (opts.config.dupesSpillAfter ?? DUPES_SPILL_AFTER)) writeDupeDirs(ctx, inMemory(roots, result.groups), plan.format);
  else {
    const dirs = new DupeDirsOnDisk(roots, spillDirOf(plan.cachePath));
    try {
      dirs.addGroups(result.groups);
      dirs.addOtherEntries();
      dirs.rank();
      writeDupeDirs(ctx, dirs, plan.format);
    } finally {
      dirs.close();
    }
  }
  return result.failures > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

/** What the report is printed from: the sets of equal directories and the all-duplicated ones, each largest first. */
interface DupeDirsSource {
  equalSets(): Iterable<EqualDirGroup>;
  duplicatedDirs(): Iterable<DuplicatedDir>;
}

function inMemory(roots: readonly string[], groups: readonly DupeGroup[]): DupeDirsSource {
  const report = findDupeDirs(roots, groups, otherEntries(roots, groups));
  return { equalSets: () => report.equal, duplicatedDirs: () => report.duplicated };
}

/** Where scratch files go: `spill` beside the state database, as the dupes spill. */
function spillDirOf(statePath: string | undefined): string {
  const p = statePath ?? defaultStatePath();
  return p.slice(0, p.lastIndexOf('/') + 1) + 'spill';
}

/** Prints the report in `format` as the store gives it (lines gathered up to a MiB a write). */
function writeDupeDirs(ctx: CliContext, dirs: DupeDirsSource, format: DupesPlan['format']): void {
  let out = '';
  const put = (text: string): void => {
    out += text;
    if (out.length >= 1 << 20) {
      ctx.stdout(out);
      out = '';
    }
  };
  let equal = 0;
  let duplicated = 0;
  put(format === 'json' ? '{"equal":[' : format === 'csv' ? DUPE_DIRS_CSV_HEADER : '');
  for (const g of dirs.equalSets()) {
    equal++;
    if (format === 'json') put((equal > 1 ? ',' : '') + equalDirsToJson(g));
    else if (format === 'ndjson') put(equalDirsToJson(g) + '\n');
    else put(format === 'csv' ? equalDirsToCsv(g, equal) : equalDirsToText(g));
  }
  if (format === 'json') put('],"duplicated":[');
  for (const d of dirs.duplicatedDirs()) {
    duplicated++;
    if (format === 'json') put((duplicated > 1 ? ',' : '') + duplicatedDirToJson(d));
    else if (format === 'ndjson') put(duplicatedDirToJson(d) + '\n');
    else put(format === 'csv' ? duplicatedDirToCsv(d) : (duplicated === 1 ? DUPLICATED_DIRS_TEXT_HEADING : '') + duplicatedDirToText(d));
  }
  if (format === 'json') put(']}\n');
  if (format === 'text') put(dupeDirsSummaryText(equal, duplicated));
  if (out.length > 0) ctx.stdout(out);
}
