import {
  addToSummary,
  dedupeGroupJson,
  dedupeGroupText,
  dedupeSkipJson,
  dedupeSkipText,
  dedupeSummaryText,
  type DedupeGroupOutcome,
  type DedupePlan,
  type DedupeOp,
  type DedupeSummary,
} from '@filer/engine';
import type { CliContext } from '../cli-context.js';

/** Lines gathered and written a MiB at a time (as the batch runner prints plans). */
export class Chunked {
  private out = '';
  constructor(private readonly ctx: CliContext) {}
  put(text: string): void {
    this.out += text;
    if (this.out.length >= 1 << 20) this.flush();
  }
  flush(): void {
    if (this.out.length > 0) this.ctx.stdout(this.out);
    this.out = '';
  }
}

/** Where the skipped copies wait, in order, until the groups are printed (on disk in the CLI: DedupeScratch). */
export interface SkipSpill {
  addSkip(line: string): void;
  skips(): Iterable<string>;
  readonly skipped: number;
}

/**
 * Prints a dedupe plan as its groups are planned: per group the kept file and what happens to each
 * other copy with the bytes it frees; then the copies skipped and why (kept in `skips` meanwhile),
 * then the summary, counted as the groups pass (text on stdout; ndjson a line per group, skip and
 * summary; json one document whose arrays are written as they go). Holds no group once printed.
 */
export class DedupePlanWriter {
  readonly summary: DedupeSummary = { groups: 0, files: 0, bytes: 0 };
  private readonly w: Chunked;
  private op?: DedupeOp;

  constructor(
    ctx: CliContext,
    private readonly format: string,
    private readonly applying: boolean,
    private readonly skips: SkipSpill,
  ) {
    this.w = new Chunked(ctx);
    if (format === 'json') this.w.put('{"groups":[');
  }

  /** Prints one planned group (and keeps its skipped copies for the end). */
  add(o: DedupeGroupOutcome): void {
    for (const s of o.skipped)
      this.skips.addSkip(
        this.format === 'text'
          ? dedupeSkipText(dedupeSkipJson(s))
          : JSON.stringify(this.format === 'json' ? dedupeSkipJson(s) : { action: 'skip', ...dedupeSkipJson(s) }),
      );
    const g = o.plan;
    if (g === undefined) return;
    const first = this.summary.groups === 0;
    addToSummary(this.summary, g);
    this.op ??= g.copies[0]?.op;
    const json = dedupeGroupJson(g);
    if (this.format === 'json') return this.w.put((first ? '' : ',') + JSON.stringify(json));
    if (this.format === 'ndjson') return this.w.put(JSON.stringify(json) + '\n');
    this.w.put(dedupeGroupText(json).join('\n') + '\n');
  }

  /** Prints the skipped copies and the summary, and writes out what is buffered. */
  end(): void {
    const { summary, op } = this;
    if (this.format === 'json') {
      this.w.put('],"skipped":[');
      let first = true;
      for (const line of this.skips.skips()) {
        this.w.put((first ? '' : ',') + line);
        first = false;
      }
      this.w.put(`],"summary":${JSON.stringify(summary)}}\n`);
      return this.w.flush();
    }
    for (const line of this.skips.skips()) this.w.put(line + '\n');
    if (this.format === 'ndjson') {
      this.w.put(JSON.stringify({ summary }) + '\n');
      return this.w.flush();
    }
    this.w.put(dedupeSummaryText(summary, op, this.skips.skipped, this.applying) + '\n');
    this.w.flush();
  }
}

/** Prints a plan held whole (planDedupe's): the same output DedupePlanWriter streams, for callers that hold one. */
export function writeDedupePlan(ctx: CliContext, plan: DedupePlan, format: string, applying: boolean): void {
  const skipped: string[] = [];
  const w = new DedupePlanWriter(ctx, format, applying, {
    addSkip: (line) => void skipped.push(line),
    skips: () => skipped,
    get skipped() {
      return skipped.length;
    },
  });
  for (const g of plan.groups) w.add({ plan: g, skipped: [] });
  w.add({ skipped: plan.skipped });
  w.end();
}
