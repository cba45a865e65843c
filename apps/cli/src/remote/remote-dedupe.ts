import { ExitCode } from '@filer/core';
import {
  dedupeGroupText,
  dedupeSkipText,
  dedupeSummaryText,
  type DedupeGroupJson,
  type DedupeOp,
  type DedupeSkipJson,
  type DedupeSummary,
} from '@filer/engine';
import type { CliContext } from '../cli-context.js';
import { Chunked } from '../commands/dedupe-output.js';
import type { ApiClient, RemoteJob } from './api-client.js';

/**
 * A cluster's dedupe plan, printed as `filer dupes --action …` prints one made here: the plan's
 * records as the cluster stored them (a group or a skipped copy each), and the summary from the
 * job's record. ndjson is those records and the summary line; json one document; text the same
 * lines as in-process.
 */
export async function printDedupePlan(
  client: ApiClient,
  job: RemoteJob,
  format: string,
  applying: boolean,
  ctx: CliContext,
): Promise<number> {
  const p = job.plan ?? { actions: 0, bytes: 0, skipped: 0, groups: 0 };
  const summary: DedupeSummary = { groups: p.groups ?? 0, files: p.actions, bytes: p.bytes };
  const groups: DedupeGroupJson[] = [];
  const skipped: DedupeSkipJson[] = [];
  const w = new Chunked(ctx);
  let op: DedupeOp | undefined;
  for await (const line of client.results(job.id)) {
    const r = JSON.parse(line) as (DedupeGroupJson & { action?: undefined }) | (DedupeSkipJson & { action: 'skip' });
    if (format === 'ndjson') w.put(line + '\n');
    else if (r.action === 'skip') {
      const s: DedupeSkipJson = { copy: r.copy, kept: r.kept, reason: r.reason, code: r.code };
      if (format === 'json') skipped.push(s);
      else w.put(dedupeSkipText(s) + '\n');
    } else {
      op ??= r.copies[0]?.action;
      if (format === 'json') groups.push(r);
      else for (const l of dedupeGroupText(r)) w.put(l + '\n');
    }
  }
  if (format === 'json') w.put(JSON.stringify({ groups, skipped, summary }) + '\n');
  else if (format === 'ndjson') w.put(JSON.stringify({ summary }) + '\n');
  else w.put(dedupeSummaryText(summary, op, p.skipped, applying) + '\n');
  w.flush();
  return job.counters.errors > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}
