import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, runProcess, type ProcessResult } from '@filer/testing';

/**
 * A local copy's, move's or rename's plan lives in a plan store on disk (libs/storage/src/state/plan-store.ts):
 * planning ten times the files must not take ten times the memory. A record per file — what the
 * plan held before, about 2.3 KB each (2.3 GB for 1,000,000 files) — would add some 400 MB between
 * the two trees below; the bound allows a small fraction of that.
 */
const SMALL = 20_000;
const LARGE = 200_000;
const PER_DIR = 250;
/**
 * Growth allowed from SMALL to LARGE files: the store's page cache (32 MiB) fills on the larger tree
 * and V8's heap sizes itself to the allocation rate; 180,000 records of 2.3 KB would be 400 MB.
 */
const GROWTH_LIMIT_KB = 128 * 1024;
const RSS_LIMIT_KB = (process.env.LD_PRELOAD?.includes('libasan') ? 1024 : 300) * 1024;

let tmp: string;

/** `count` empty files, PER_DIR to a directory, under `dir`. */
function tree(dir: string, count: number): void {
  const script = `
    const fs = require('node:fs');
    const [dir, count, per] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
    for (let d = 0; d * per < count; d++) {
      const sub = dir + '/d' + String(d).padStart(4, '0');
      fs.mkdirSync(sub, { recursive: true });
      for (let i = d * per; i < Math.min(count, (d + 1) * per); i++) fs.closeSync(fs.openSync(sub + '/f' + i + '.txt', 'w'));
    }`;
  const r = spawnSync(process.execPath, ['-e', script, dir, String(count), String(PER_DIR)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(() => {
  // tmpfs where there is one: 200,000 files are made in seconds there.
  tmp = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'filer-bounded-'));
  tree(join(tmp, 'small'), SMALL);
  tree(join(tmp, 'large'), LARGE);
}, 300_000);

afterAll(() => {
  if (tmp) spawnSync('rm', ['-rf', tmp]);
});

/** Runs filer under GNU time: its result and peak resident memory in KB. */
async function filer(args: string[], env: Record<string, string> = {}): Promise<ProcessResult & { rssKb: number }> {
  const rssFile = join(tmp, `rss-${Math.random().toString(36).slice(2)}`);
  const r = await runProcess('/usr/bin/time', ['-f', '%M', '-o', rssFile, process.execPath, FILER_BIN, ...args], {
    env: { XDG_CACHE_HOME: join(tmp, 'cache'), ...env },
    timeoutMs: 300_000,
  });
  return { ...r, rssKb: Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) };
}

describe('a copy plan in bounded memory', () => {
  it('plans 200,000 files in about the memory of 20,000, and leaves no plan store behind', async () => {
    const rss: number[] = [];
    for (const [name, count] of [
      ['small', SMALL],
      ['large', LARGE],
    ] as const) {
      const r = await filer(['copy', join(tmp, name), '--dest', join(tmp, `dest-${name}`)]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toMatch(new RegExp(`^plan: ${count} to copy \\(0 B\\), 0 conflicts, 0 unchanged, 0 skipped; nothing changed`));
      expect(lines.length).toBe(count + 1);
      // Path order below the root, as planned in memory before.
      expect(lines[0]).toBe(`${join(tmp, name, 'd0000', 'f0.txt')} → ${join(tmp, `dest-${name}`, 'd0000', 'f0.txt')}`);
      expect(lines[1]).toBe(`${join(tmp, name, 'd0000', 'f1.txt')} → ${join(tmp, `dest-${name}`, 'd0000', 'f1.txt')}`);
      rss.push(r.rssKb);
    }
    console.log(`copy plan, peak RSS: ${SMALL} files ${Math.round(rss[0] / 1024)} MB, ${LARGE} files ${Math.round(rss[1] / 1024)} MB`);
    expect(rss[1] - rss[0]).toBeLessThan(GROWTH_LIMIT_KB);
    expect(rss[1]).toBeLessThan(RSS_LIMIT_KB);
    // The store is a temporary file beside the state database, removed when the plan is done.
    expect(readdirSync(join(tmp, 'cache', 'filer', 'plans'))).toEqual([]);
  }, 600_000);
});

describe('a rename plan in bounded memory', () => {
  it('plans 200,000 renames in about the memory of 20,000, {counter} in path order', async () => {
    const rss: number[] = [];
    for (const [name, count] of [
      ['small', SMALL],
      ['large', LARGE],
    ] as const) {
      const r = await filer(['rename', join(tmp, name), '--to', '{counter}-{name}', '--format', 'ndjson']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.length).toBe(count);
      // Numbered across pages of naming in path order: d0000/f0, d0000/f1, d0000/f10, …
      const first = JSON.parse(lines[0]) as { source: string; target: string };
      const last = JSON.parse(lines[count - 1]) as { source: string; target: string };
      expect(first).toMatchObject({ source: join(tmp, name, 'd0000', 'f0.txt'), target: join(tmp, name, 'd0000', '1-f0.txt') });
      expect(last.target).toMatch(new RegExp(`/${count}-f\\d+\\.txt$`));
      rss.push(r.rssKb);
    }
    console.log(`rename plan, peak RSS: ${SMALL} files ${Math.round(rss[0] / 1024)} MB, ${LARGE} files ${Math.round(rss[1] / 1024)} MB`);
    expect(rss[1] - rss[0]).toBeLessThan(GROWTH_LIMIT_KB);
    expect(rss[1]).toBeLessThan(RSS_LIMIT_KB);
  }, 600_000);
});

describe('a resume in bounded memory', () => {
  it('resumes a journal of 200,000 actions in about the memory of 20,000 (every one failing: counted, streamed)', async () => {
    const rss: number[] = [];
    for (const [name, count] of [
      ['small', SMALL],
      ['large', LARGE],
    ] as const) {
      // Journaled, then killed before the first file: every action is pending.
      const a = await runProcess(
        process.execPath,
        [FILER_BIN, 'copy', join(tmp, name), '--dest', join(tmp, `applied-${name}`), '--apply'],
        {
          env: { XDG_CACHE_HOME: join(tmp, 'cache'), FILER_FAULT: 'after-journal:1' },
          timeoutMs: 300_000,
        },
      );
      expect(a.signal, a.stderr).toBe('SIGKILL');
      const id = /job (\S+): journaled (\d+) actions/.exec(a.stderr);
      expect(id?.[2]).toBe(String(count));
      // The sources gone (moved aside at once): each action is decided from the disk and fails.
      renameSync(join(tmp, name), join(tmp, `${name}-gone`));
      const r = await filer(['jobs', 'resume', id![1]]);
      renameSync(join(tmp, `${name}-gone`), join(tmp, name));
      expect(r.code).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines.length).toBe(count + 1);
      expect(lines.at(-1)).toBe(`filer: job ${id![1]} failed: 0 done, 0 undone, ${count} failed, 0 skipped, 0 pending`);
      rss.push(r.rssKb);
    }
    console.log(`resume, peak RSS: ${SMALL} actions ${Math.round(rss[0] / 1024)} MB, ${LARGE} actions ${Math.round(rss[1] / 1024)} MB`);
    expect(rss[1] - rss[0]).toBeLessThan(GROWTH_LIMIT_KB);
    expect(rss[1]).toBeLessThan(RSS_LIMIT_KB);
  }, 600_000);
});
