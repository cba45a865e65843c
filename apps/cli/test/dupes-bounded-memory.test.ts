import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, runProcess, type ProcessResult } from '@filer/testing';

/**
 * The portable dupes path (FILER_FS_SCAN_ADDON=off) spills its walk's records to a SQLite store
 * above FILER_DUPES_SPILL_AFTER (libs/storage/src/dupes/spilling-dupe-files.ts): ten times the
 * files must not leave more live on the heap. Measured by V8 itself (--trace-gc: what a full
 * mark-compact leaves live), where peak RSS also holds the walk's threads and queues, which grow
 * with the tree whatever the records do (logged, not asserted). Measured: spilled, 5.4 MB live on
 * SMALL and 7.2 MB on LARGE; LARGE held in memory (FILER_DUPES_SPILL_AFTER above it), 28.6 MB.
 */
const SMALL = 12_000;
const LARGE = 120_000;
const SPILL_AFTER = 2_000;
const PER_DIR = 500;
/**
 * Live heap growth allowed from SMALL to LARGE: the 108,000 more records held in memory grew it by
 * 23 MB (above). Spilled it grew by 1.8–3 MB on Node 20 and 22, and by 6.3 MB once on Node 22 in a whole
 * portable run (its old-space sizing differs): 10 MB is under half of what holding them costs.
 */
const GROWTH_LIMIT_MB = 10;
const NAME = 'x'.repeat(80);

let tmp: string;

/** `count` sparse files, each of a size of its own (none is read), PER_DIR to a directory, plus one duplicate pair. */
function tree(dir: string, count: number): void {
  const script = `
    const fs = require('node:fs');
    const [dir, count, per, name] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
    for (let d = 0; d * per < count; d++) {
      const sub = dir + '/' + name + String(d).padStart(4, '0');
      fs.mkdirSync(sub, { recursive: true });
      for (let i = d * per; i < Math.min(count, (d + 1) * per); i++) {
        const fd = fs.openSync(sub + '/' + name + i, 'w');
        fs.ftruncateSync(fd, i + 100);
        fs.closeSync(fd);
      }
    }
    fs.writeFileSync(dir + '/dup-a', 'same');
    fs.writeFileSync(dir + '/dup-b', 'same');`;
  const r = spawnSync(process.execPath, ['-e', script, dir, String(count), String(PER_DIR), NAME], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(() => {
  tmp = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'filer-dupes-bounded-'));
  tree(join(tmp, 'small'), SMALL);
  tree(join(tmp, 'large'), LARGE);
}, 120_000);

afterAll(() => {
  if (tmp) spawnSync('rm', ['-rf', tmp]);
});

/** The most a full GC left live, in MB, from --trace-gc's lines (`Mark-Compact 30.1 (40.2) -> 25.3 (41.0) MB`), and how many ran. */
function liveAfterGc(stdout: string): { maxMb: number; count: number } {
  const after = [...stdout.matchAll(/Mark-Compact[^\n]*?-> ([\d.]+) \(/g)].map((m) => Number(m[1]));
  return { maxMb: Math.max(0, ...after), count: after.length };
}

/** Runs the portable `filer dupes` under GNU time with --trace-gc: its result and peak RSS in KB. */
async function dupes(root: string): Promise<ProcessResult & { rssKb: number }> {
  const rssFile = join(tmp, `rss-${Math.random().toString(36).slice(2)}`);
  // A small young generation: objects that live are promoted early, and full GCs see them.
  const node = [process.execPath, '--trace-gc', '--max-semi-space-size=1'];
  const args = ['-f', '%M', '-o', rssFile, ...node, FILER_BIN, 'dupes', root, '--no-cache', '--format', 'json'];
  const r = await runProcess('/usr/bin/time', args, {
    env: { XDG_CACHE_HOME: join(tmp, 'cache'), FILER_FS_SCAN_ADDON: 'off', FILER_DUPES_SPILL_AFTER: String(SPILL_AFTER) },
    timeoutMs: 120_000,
  });
  return { ...r, rssKb: Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) };
}

describe('dupes on the portable walk in bounded memory', () => {
  it('leaves as little live on the heap for 120,000 files as for 12,000, and no store behind', async () => {
    const live: { maxMb: number; count: number }[] = [];
    const rss: number[] = [];
    for (const name of ['small', 'large']) {
      const r = await dupes(join(tmp, name));
      expect(r.code, r.stderr).toBe(0);
      // The report is the JSON line; V8's trace lines share stdout.
      const report = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"groups"'))!) as { groups: { paths: string[] }[] };
      expect(report.groups.map((g) => g.paths)).toEqual([[join(tmp, name, 'dup-a'), join(tmp, name, 'dup-b')]]);
      live.push(liveAfterGc(r.stdout));
      rss.push(r.rssKb);
    }
    console.log(
      `portable dupes: ${SMALL} files ${live[0].maxMb} MB live after GC, ${Math.round(rss[0] / 1024)} MB peak RSS; ` +
        `${LARGE} files ${live[1].maxMb} MB live (${live[1].count} full GCs), ${Math.round(rss[1] / 1024)} MB peak RSS`,
    );
    // Without a full GC on the large tree the measure says nothing.
    expect(live[1].count).toBeGreaterThan(0);
    expect(live[1].maxMb - live[0].maxMb).toBeLessThan(GROWTH_LIMIT_MB);
    // The store is a temporary file beside the state database, removed when the run is done.
    expect(readdirSync(join(tmp, 'cache', 'filer', 'spill'))).toEqual([]);
  }, 120_000);
});
