import { ExitCode, invalidArgument } from '@filer/core';
import { isS3Uri } from '@filer/storage';
import { otherEntries } from '@filer/storage/dupes';
import { dupeDirsToCsv, dupeDirsToJsonDocument, dupeDirsToNdjson, dupeDirsToText, findDupeDirs, type DupeDirsReport } from '@filer/engine';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { searchDupes } from './dupes-command.js';
import type { DupesPlan } from './dupes-plan.js';

// `filer dupes ROOT… --dirs`: the duplicate search as for the report, then equal directories and
// directories whose files all have copies elsewhere, from its groups (engine's findDupeDirs). No
// file is read again: the directories holding a duplicate (and those above them) are listed once
// more, to learn which other entries they hold.

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
  const report = findDupeDirs(roots, result.groups, otherEntries(roots, result.groups));
  ctx.stdout(renderDupeDirs(report, plan.format));
  return result.failures > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

function renderDupeDirs(report: DupeDirsReport, format: DupesPlan['format']): string {
  switch (format) {
    case 'text':
      return dupeDirsToText(report);
    case 'ndjson':
      return dupeDirsToNdjson(report);
    case 'csv':
      return dupeDirsToCsv(report);
    case 'json':
      return dupeDirsToJsonDocument(report);
  }
}
