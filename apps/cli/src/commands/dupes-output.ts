// What a local and an S3 `filer dupes` print alike: the progress line's phase names and the report.
// Both runs import it from here, so neither imports the other's command module.
import type { CliContext } from '../cli-context.js';
import {
  DUPES_CSV_HEADER,
  dupeGroupToCsv,
  dupeGroupToJson,
  dupeGroupToText,
  dupesSummaryText,
  type DupePhase,
  type findDuplicates,
} from '@filer/engine';
import type { DupesPlan } from './dupes-plan.js';

/** The progress line's name of each phase of the duplicate pipeline. */
export const PHASE_LABEL: Record<DupePhase, string> = {
  scan: 'scanning',
  size: 'grouping by size',
  sample: 'hashing samples',
  full: 'hashing whole files',
  done: 'done',
};

/** Prints the groups (and the text format's summary) in the plan's format. */
export function writeDupesReport(
  ctx: CliContext,
  plan: Pick<DupesPlan, 'format' | 'algorithm'>,
  result: Awaited<ReturnType<typeof findDuplicates>>,
): void {
  const { groups, stats } = result;
  const CHUNK = 1024;
  switch (plan.format) {
    case 'text':
      for (let i = 0; i < groups.length; i += CHUNK)
        ctx.stdout(
          groups
            .slice(i, i + CHUNK)
            .map(dupeGroupToText)
            .join(''),
        );
      ctx.stdout(dupesSummaryText(stats, plan.algorithm));
      return;
    case 'ndjson':
      for (let i = 0; i < groups.length; i += CHUNK)
        ctx.stdout(
          groups
            .slice(i, i + CHUNK)
            .map((g) => dupeGroupToJson(g) + '\n')
            .join(''),
        );
      return;
    case 'csv':
      ctx.stdout(DUPES_CSV_HEADER);
      for (let i = 0; i < groups.length; i += CHUNK)
        ctx.stdout(
          groups
            .slice(i, i + CHUNK)
            .map((g, k) => dupeGroupToCsv(g, i + k))
            .join(''),
        );
      return;
    case 'json':
      ctx.stdout('{"groups":[');
      for (let i = 0; i < groups.length; i += CHUNK)
        ctx.stdout(
          (i > 0 ? ',' : '') +
            groups
              .slice(i, i + CHUNK)
              .map(dupeGroupToJson)
              .join(','),
        );
      ctx.stdout(`],"summary":${JSON.stringify({ ...stats, hash: plan.algorithm })}}\n`);
      return;
  }
}
