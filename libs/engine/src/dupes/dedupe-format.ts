import { formatSize } from '@filer/core';
import type { DedupeCopyPlan, DedupeGroupPlan, DedupeOp, DedupeSummary } from './dedupe-types.js';
import type { DedupePlan } from './plan-dedupe.js';

/*
 * A dedupe plan's records, as `filer dupes --action … --format ndjson` prints them and a cluster
 * dupes job stores its plan (one group or skip a line), and the text lines made from those records:
 * the CLI prints a plan made here or by a cluster with the same functions.
 */

export interface DedupeCopyJson {
  action: DedupeOp;
  copy: string;
  target?: string;
  link?: string;
  freed: number;
}

export interface DedupeGroupJson {
  size: number;
  hash: string;
  kept: string;
  copies: DedupeCopyJson[];
  untouched?: string[];
}

export interface DedupeSkipJson {
  copy: string;
  kept: string;
  reason: string;
  /** The reason's stable code (E_PERMS_DIFFER, E_CROSS_DEVICE, E_CONFLICT). */
  code: string;
}

const copyJson = (c: DedupeCopyPlan): DedupeCopyJson => ({
  action: c.op,
  copy: c.copy.path,
  ...(c.target === '' ? {} : { target: c.target }),
  ...(c.linkText === undefined ? {} : { link: c.linkText }),
  freed: c.freed,
});

/** One group of a plan as its record. */
export function dedupeGroupJson(g: DedupeGroupPlan): DedupeGroupJson {
  return {
    size: g.size,
    hash: g.hash,
    kept: g.kept.path,
    copies: g.copies.map(copyJson),
    ...(g.untouched.length > 0 ? { untouched: g.untouched.map((f) => f.path) } : {}),
  };
}

/** One skipped copy of a plan as its record. */
export function dedupeSkipJson(s: DedupePlan['skipped'][number]): DedupeSkipJson {
  return { copy: s.copy.path, kept: s.kept.path, reason: s.reason, code: s.reason.split(':')[0] };
}

/** A plan's records in print order: every group, then every skip (`{"action":"skip",…}`). */
export function* dedupePlanRecords(plan: DedupePlan): Generator<string> {
  for (const g of plan.groups) yield JSON.stringify(dedupeGroupJson(g));
  for (const s of plan.skipped) yield JSON.stringify({ action: 'skip', ...dedupeSkipJson(s) });
}

/** A group's text lines: the kept file, then what happens to each copy and which files are left. */
export function dedupeGroupText(g: DedupeGroupJson): string[] {
  const lines = [`keep ${g.kept}  (${formatSize(g.size)})`];
  for (const c of g.copies)
    lines.push(
      `  ${c.action.padEnd(8)} ${c.copy}${c.action === 'move-to' ? ` → ${c.target}` : c.action === 'symlink' ? ` → ${c.link}` : ''}  frees ${formatSize(c.freed)}`,
    );
  for (const f of g.untouched ?? []) lines.push(`  ${'leave'.padEnd(8)} ${f}`);
  return lines;
}

export function dedupeSkipText(s: DedupeSkipJson): string {
  return `skip ${s.copy}: ${s.reason}`;
}

/** The plan's last text line: copies, groups, bytes, skips, and what to do next. */
export function dedupeSummaryText(summary: DedupeSummary, op: DedupeOp | undefined, skipped: number, applying: boolean): string {
  return (
    `plan: ${summary.files} copies in ${summary.groups} groups${op === undefined ? '' : ` to ${op}`}, ${formatSize(summary.bytes)} reclaimed, ` +
    `${skipped} skipped` +
    (op === 'hardlink' || op === 'symlink' || op === 'remove'
      ? ' (the space is freed once the quarantine is purged: filer jobs purge ID)'
      : '') +
    (applying ? '' : '; nothing changed (add --apply to carry it out)')
  );
}
