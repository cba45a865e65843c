import { formatSize } from '@filer/core';
import type { DedupeCopyPlan, DedupeGroupPlan, DedupePlan } from '@filer/engine';
import type { CliContext } from '../cli-context.js';

/** Lines gathered and written a MiB at a time (as the batch runner prints plans). */
class Chunked {
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

const copyJson = (c: DedupeCopyPlan): Record<string, unknown> => ({
  action: c.op,
  copy: c.copy.path,
  ...(c.target === '' ? {} : { target: c.target }),
  ...(c.linkText === undefined ? {} : { link: c.linkText }),
  freed: c.freed,
});

const groupJson = (g: DedupeGroupPlan): Record<string, unknown> => ({
  size: g.size,
  hash: g.hash,
  kept: g.kept.path,
  copies: g.copies.map(copyJson),
  ...(g.untouched.length > 0 ? { untouched: g.untouched.map((f) => f.path) } : {}),
});

/**
 * Prints a dedupe plan: per group the kept file and what happens to each other copy with the bytes
 * it frees, the copies skipped and why, and the summary (text on stdout; ndjson a line per group,
 * skip and summary; json one document).
 */
export function writeDedupePlan(ctx: CliContext, plan: DedupePlan, format: string, applying: boolean): void {
  const { summary } = plan;
  const op = plan.groups[0]?.copies[0]?.op;
  if (format === 'json') {
    ctx.stdout(JSON.stringify({ groups: plan.groups.map(groupJson), skipped: plan.skipped.map(skipJson), summary }) + '\n');
    return;
  }
  const w = new Chunked(ctx);
  if (format === 'ndjson') {
    for (const g of plan.groups) w.put(JSON.stringify(groupJson(g)));
    for (const s of plan.skipped) w.put(JSON.stringify({ action: 'skip', ...skipJson(s) }));
    w.put(JSON.stringify({ summary }));
    return w.flush();
  }
  for (const g of plan.groups) {
    w.put(`keep ${g.kept.path}  (${formatSize(g.size)})`);
    for (const c of g.copies)
      w.put(
        `  ${c.op.padEnd(8)} ${c.copy.path}${c.op === 'move-to' ? ` → ${c.target}` : c.op === 'symlink' ? ` → ${c.linkText}` : ''}  frees ${formatSize(c.freed)}`,
      );
    for (const f of g.untouched) w.put(`  ${'leave'.padEnd(8)} ${f.path}`);
  }
  for (const s of plan.skipped) w.put(`skip ${s.copy.path}: ${s.reason}`);
  w.put(
    `plan: ${summary.files} copies in ${summary.groups} groups${op === undefined ? '' : ` to ${op}`}, ${formatSize(summary.bytes)} reclaimed, ` +
      `${plan.skipped.length} skipped` +
      (op === 'hardlink' || op === 'symlink' || op === 'remove'
        ? ' (the space is freed once the quarantine is purged: filer jobs purge ID)'
        : '') +
      (applying ? '' : '; nothing changed (add --apply to carry it out)'),
  );
  w.flush();
}

function skipJson(s: DedupePlan['skipped'][number]): Record<string, unknown> {
  return { copy: s.copy.path, kept: s.kept.path, reason: s.reason, code: s.reason.split(':')[0] };
}
