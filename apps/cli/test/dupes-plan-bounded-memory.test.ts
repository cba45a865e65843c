import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, runProcess } from '@filer/testing';

/**
 * The dedupe plan (`filer dupes --action …`) and `--dirs` on trees where every file has a copy:
 * ten times the duplicates must not leave more live on the heap than the duplicate report itself
 * does (`filer dupes`, whose finder holds its groups: that growth is the finder's, logged and
 * subtracted). Measured as dupes-bounded-memory.test.ts measures (--trace-gc: what a full
 * mark-compact leaves live), on the portable walk with its spill, so the finder's walk records are
 * on disk. Each pair of files has a directory of its own (two levels), so the directories count as
 * much as the files. Measured (Node 20, 2 cores under load): the report grew 11–18 MB from SMALL to
 * LARGE; beyond it, the plan that held a described file, a copy plan and a journal row per copy
 * grew 51 MB more, the --dirs that held a record per directory and an entry per file 47 MB more;
 * streamed, the plan grows 0–7 MB more and --dirs −1 to +9 MB over several runs (the measure's
 * noise: when a full GC falls, what transient buffers it meets).
 */
const SMALL = 6_000;
const LARGE = 60_000;
/** Growth beyond the report's allowed from SMALL to LARGE: under a third of what holding the records cost (above). */
const EXTRA_GROWTH_LIMIT_MB = 15;
const PER_DIR = 1;
const NAME = 'y'.repeat(60);

let tmp: string;

/** `count` pairs of equal small files (a content of their own per pair, sizes spread over ~1,000), PER_DIR pairs to a directory `a/NAME<d>/sub` and its twin under `b/`. */
function tree(dir: string, count: number): void {
  const script = `
    const fs = require('node:fs');
    const [dir, count, per, name] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
    for (let d = 0; d * per < count; d++) {
      for (const side of ['a', 'b']) fs.mkdirSync(dir + '/' + side + '/' + name + d + '/sub', { recursive: true });
      for (let k = d * per; k < Math.min(count, (d + 1) * per); k++) {
        const body = String(k).padStart(8 + (k % 997), '.');
        for (const side of ['a', 'b']) fs.writeFileSync(dir + '/' + side + '/' + name + d + '/sub/' + name + k, body);
      }
    }`;
  const r = spawnSync(process.execPath, ['-e', script, dir, String(count), String(PER_DIR), NAME], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(() => {
  tmp = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'filer-plan-bounded-'));
  tree(join(tmp, 'small'), SMALL / 2);
  tree(join(tmp, 'large'), LARGE / 2);
}, 180_000);

afterAll(() => {
  if (tmp) spawnSync('rm', ['-rf', tmp]);
});

/** The most a full GC left live, in MB, and how many ran (as dupes-bounded-memory.test.ts reads them). */
function liveAfterGc(stdout: string): { maxMb: number; count: number } {
  const after = [...stdout.matchAll(/Mark-Compact[^\n]*?-> ([\d.]+) \(/g)].map((m) => Number(m[1]));
  return { maxMb: Math.max(0, ...after), count: after.length };
}

/** Runs the portable `filer dupes ROOT ARGS…` with --trace-gc: the live heap and the last non-trace stdout line. */
async function liveOf(root: string, args: string[]): Promise<{ maxMb: number; count: number; last: string }> {
  const node = [process.execPath, '--trace-gc', '--max-semi-space-size=1'];
  const r = await runProcess(node[0], [...node.slice(1), FILER_BIN, 'dupes', root, '--no-cache', ...args], {
    env: { XDG_CACHE_HOME: join(tmp, 'cache'), FILER_FS_SCAN_ADDON: 'off', FILER_DUPES_SPILL_AFTER: '2000' },
    timeoutMs: 300_000,
  });
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.split('\n').filter((l) => l !== '' && !/^\[\d+:0x[0-9a-f]+\]/.test(l));
  return { ...liveAfterGc(r.stdout), last: lines.at(-1) ?? '' };
}

/** Live-heap growth from SMALL to LARGE of `filer dupes ARGS…`, beside the report's (`filer dupes --format ndjson`). */
async function growth(args: string[]): Promise<{ extra: number; report: number; own: number; last: string[] }> {
  const report: number[] = [];
  const own: number[] = [];
  const last: string[] = [];
  for (const name of ['small', 'large']) {
    report.push((await liveOf(join(tmp, name), ['--format', 'ndjson'])).maxMb);
    const r = await liveOf(join(tmp, name), args);
    // Without a full GC the measure says nothing.
    expect(r.count).toBeGreaterThan(0);
    own.push(r.maxMb);
    last.push(r.last);
  }
  const g = { report: report[1] - report[0], own: own[1] - own[0] };
  console.log(
    `dupes ${args.join(' ')}: live ${own[0]} → ${own[1]} MB (${SMALL} → ${LARGE} files); the report's ${report[0]} → ${report[1]} MB`,
  );
  return { ...g, extra: g.own - g.report, last };
}

describe('the dedupe plan and --dirs in bounded memory', () => {
  it('the plan (--action hardlink) grows no more than the report does from 6,000 to 60,000 duplicates', async () => {
    // ndjson: V8's trace lines share stdout, and fall between whole lines (a json document is one line).
    const g = await growth(['--action', 'hardlink', '--format', 'ndjson']);
    // The summary, last, counts every copy.
    expect(g.last.map((l) => (JSON.parse(l) as { summary: unknown }).summary)).toEqual([
      { groups: SMALL / 2, files: SMALL / 2, bytes: expect.any(Number) },
      { groups: LARGE / 2, files: LARGE / 2, bytes: expect.any(Number) },
    ]);
    expect(g.extra).toBeLessThan(EXTRA_GROWTH_LIMIT_MB);
  }, 600_000);

  it('--dirs grows no more than the report does: its directories and their entries are rows on disk', async () => {
    const g = await growth(['--dirs', '--format', 'ndjson']);
    // a/ and b/ are equal, every pair of their subdirectories with them: only the outermost set is reported.
    expect(g.last.map((l) => JSON.parse(l) as unknown)).toEqual(
      ['small', 'large'].map((name, i) => ({
        kind: 'equal',
        bytes: expect.any(Number),
        files: [SMALL, LARGE][i] / 2,
        dirs: [join(tmp, name, 'a'), join(tmp, name, 'b')],
      })),
    );
    expect(g.extra).toBeLessThan(EXTRA_GROWTH_LIMIT_MB);
  }, 600_000);
});
