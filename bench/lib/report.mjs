// How every benchmark ends: its markdown report written atomically and printed, and what went
// wrong (mismatches with the peers or the generator, failed runs) listed in it and shouted on stderr.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Whole numbers with thousands separators; '—' for a figure that is missing. */
export const fmtInt = (n) => (n === undefined || Number.isNaN(n) ? '—' : Math.round(n).toLocaleString('en-US'));
export const fmtGB = (bytes) => `${(bytes / 1e9).toFixed(2)} GB`;
/** A ratio to two decimals; 'n/a' where a peer (or a run) gave no figure. */
export const fmtRatio = (r) => (r === undefined || !Number.isFinite(r) ? 'n/a' : r.toFixed(2));

/**
 * `problems`: [{ label, items }] (e.g. { label: 'COUNT MISMATCH', items: mismatches }); each item's
 * first line goes into the report's PROBLEMS section. Returns the lines to append (none when all is well).
 */
export function problemsSection(problems) {
  if (problems.every((p) => p.items.length === 0)) return [];
  const md = ['## PROBLEMS', ''];
  for (const p of problems) for (const item of p.items) md.push(`- ${p.label} — ${String(item).split('\n')[0]}`);
  md.push('');
  return md;
}

/** Writes `markdown` to `file` (via a temporary file), prints it, and logs every problem in full. */
export function writeReport(bench, file, markdown, problems, log) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file + '.tmp', markdown);
  fs.renameSync(file + '.tmp', file);
  process.stdout.write('\n' + markdown + '\n');
  log(`${bench}: results written to ${path.relative(process.cwd(), file) || file}`);
  for (const p of problems) {
    if (p.items.length === 0) continue;
    log(`\n!!!!!!!!!! ${p.label} !!!!!!!!!!`);
    for (const item of p.items) log(`!!! ${item}`);
  }
}
