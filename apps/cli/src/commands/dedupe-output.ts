import {
  dedupeGroupJson,
  dedupeGroupText,
  dedupePlanRecords,
  dedupeSkipJson,
  dedupeSkipText,
  dedupeSummaryText,
  type DedupePlan,
} from '@filer/engine';
import type { CliContext } from '../cli-context.js';

/** Lines gathered and written a MiB at a time (as the batch runner prints plans). */
export class Chunked {
  private out = '';
  constructor(private readonly ctx: CliContext) {}
  put(line: string): void {
    this.out += line + '\n';
    if (this.out.length >= 1 << 20) this.flush();
  }
  flush(): void {
    if (this.out.length > 0) this.ctx.stdout(this.out);
    this.out = '';
  }
}

/**
 * Prints a dedupe plan: per group the kept file and what happens to each other copy with the bytes
 * it frees, the copies skipped and why, and the summary (text on stdout; ndjson a line per group,
 * skip and summary; json one document).
 */
export function writeDedupePlan(ctx: CliContext, plan: DedupePlan, format: string, applying: boolean): void {
  const { summary } = plan;
  const op = plan.groups[0]?.copies[0]?.op;
  if (format === 'json') {
    ctx.stdout(JSON.stringify({ groups: plan.groups.map(dedupeGroupJson), skipped: plan.skipped.map(dedupeSkipJson), summary }) + '\n');
    return;
  }
  const w = new Chunked(ctx);
  if (format === 'ndjson') {
    for (const r of dedupePlanRecords(plan)) w.put(r);
    w.put(JSON.stringify({ summary }));
    return w.flush();
  }
  for (const g of plan.groups) for (const line of dedupeGroupText(dedupeGroupJson(g))) w.put(line);
  for (const s of plan.skipped) w.put(dedupeSkipText(dedupeSkipJson(s)));
  w.put(dedupeSummaryText(summary, op, plan.skipped.length, applying));
  w.flush();
}
