import { describe, expect, it } from 'vitest';
import { planDedupe, planDedupeGroups, type DedupeCandidate, type DedupeOptions } from '@filer/engine';
import type { CliContext } from '../cli-context.js';
import { DedupePlanWriter, writeDedupePlan } from './dedupe-output.js';

const file = (path: string, root: number, ino: number, over: Partial<DedupeCandidate> = {}): DedupeCandidate => ({
  path,
  root,
  dev: 1,
  ino,
  size: 10,
  mtimeNs: '1',
  nlink: 1,
  uid: 1,
  gid: 1,
  mode: 0o644,
  ...over,
});
const groups = [
  { size: 10, hash: 'h1', files: [file('/a/1', 0, 1), file('/b/1', 1, 2), file('/b/2', 1, 3, { mode: 0o600 })] },
  { size: 20, hash: 'h2', files: [file('/a/x', 0, 4, { size: 20 }), file('/b/x', 1, 5, { size: 20, nlink: 2 })] },
];
const opts: DedupeOptions = { op: 'hardlink', roots: ['/a', '/b'], keep: [], reference: new Set(), isolate: false, jobId: 'J' };

function capture(run: (ctx: CliContext) => void): string {
  let out = '';
  run({ stdout: (d) => void (out += String(d)), stderr: () => undefined, stderrIsTTY: false });
  return out;
}

describe('DedupePlanWriter', () => {
  it.each(['text', 'ndjson', 'json'])('%s: streamed group by group, prints what the held plan prints, skips after the groups', (format) => {
    const held = capture((ctx) => writeDedupePlan(ctx, planDedupe(groups, opts), format, false));
    const streamed = capture((ctx) => {
      const lines: string[] = [];
      const w = new DedupePlanWriter(ctx, format, false, {
        addSkip: (l) => void lines.push(l),
        skips: () => lines,
        get skipped() {
          return lines.length;
        },
      });
      for (const o of planDedupeGroups(groups, opts)) w.add(o);
      w.end();
      expect(w.summary).toEqual({ groups: 2, files: 2, bytes: 10 });
    });
    expect(streamed).toBe(held);
    expect(streamed).toContain('E_PERMS_DIFFER');
    expect(streamed.indexOf('E_PERMS_DIFFER')).toBeGreaterThan(streamed.indexOf('/b/x'));
    if (format === 'json')
      expect(JSON.parse(streamed)).toMatchObject({ summary: { groups: 2, files: 2, bytes: 10 }, skipped: [{ code: 'E_PERMS_DIFFER' }] });
  });
});
