import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listJobIds,
  seededRandom,
  showJob,
  sleep,
  spawnFiler,
  TmpfsMounts,
  treeManifest,
  writeSeededTree,
  type ManifestEntry,
} from '@filer/testing';

/**
 * Battery item 8, vanishing and changing sources: while a move (and a copy) of 3,000 files from
 * the disk to a tmpfs runs, a loop in this test deletes 100 sources and appends a byte to 100
 * others — half picked at random, half just ahead of where the job is, so that some changes land
 * while a file is being copied or between its copy and the removal of its source.
 * Pass: a deleted source's action fails with ENOENT; an appended source is never removed — the
 * action fails E_CHANGED, and a copy at the destination, if any, is the complete version planned
 * (never a torn one): the rule is that a changed source fails its action with both copies
 * kept; no file is truncated; exit 1; every other file is exactly where the job puts it, byte for
 * byte, and nothing else is anywhere.
 */

const FILES = 3000;
const DELETES = 100;
const APPENDS = 100;

let base: string;
const mounts = new TmpfsMounts();
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-battery-08-'));
});
afterAll(() => {
  try {
    mounts.unmountAll();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Files below `dir` (no temporary ones) counted by listing: how far the job has got. */
function placedCount(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir).reduce((n, d) => {
    try {
      return n + fs.readdirSync(path.join(dir, d)).filter((f) => !f.startsWith('.')).length;
    } catch {
      return n;
    }
  }, 0);
}

describe('battery 8: sources deleted and appended to while a job runs', () => {
  for (const kind of ['move', 'copy'] as const) {
    it(`${kind} of ${FILES} files across devices`, { timeout: 180_000 }, async () => {
      const dir = fs.mkdtempSync(path.join(base, `${kind}-`));
      const src = path.join(dir, 'src');
      const dest = path.join(mounts.mount(base, 'size=512m'), 'dest');
      const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
      const before = writeSeededTree(src, { files: FILES, dirs: 30, maxSize: 64 * 1024, seed: 8 });
      const planned = [...before.keys()].sort();
      const rnd = seededRandom(88);

      const run = spawnFiler([kind, src, '--dest', dest, '--apply'], env);
      let exited = false;
      void run.exited.then(() => (exited = true));
      while (!exited && !run.stderr().includes('journaled')) await sleep(2);

      // The loop: only changes that took effect while the source was still there are counted.
      const deleted = new Set<string>();
      const appended = new Map<string, ManifestEntry>();
      const raced: string[] = [];
      let tries = 0;
      while (!exited && (deleted.size < DELETES || appended.size < APPENDS)) {
        tries++;
        const near = tries % 2 === 0;
        const at = near ? Math.min(planned.length - 1, placedCount(dest) + Math.floor(rnd() * 300)) : Math.floor(rnd() * planned.length);
        const rel = planned[at];
        if (deleted.has(rel) || appended.has(rel)) continue;
        const p = path.join(src, rel);
        const wantDelete = deleted.size < DELETES && (appended.size >= APPENDS || tries % 4 < 2);
        if (wantDelete) {
          if (ignoreEnoent(() => fs.unlinkSync(p))) deleted.add(rel);
        } else {
          // Opened without O_CREAT: a source already moved away is left alone.
          let fd: number | undefined;
          ignoreEnoent(() => (fd = fs.openSync(p, 'r+')));
          if (fd !== undefined) {
            try {
              fs.writeSync(fd, Buffer.from('+'), 0, 1, fs.fstatSync(fd).size);
            } finally {
              fs.closeSync(fd);
            }
            // Still there: the job must see the change. Gone: the job removed it in the instant
            // after checking it, and the byte went with it — a loss this test must report.
            let now: Buffer | undefined;
            if (ignoreEnoent(() => (now = fs.readFileSync(p)))) appended.set(rel, { size: now!.length, sha256: sha(now!) });
            else raced.push(rel);
          }
        }
        await sleep(1);
      }
      const r = await run.exited;
      expect(deleted.size, `the job finished before the loop made its changes: ${r.stderr.slice(-300)}`).toBe(DELETES);
      expect(appended.size).toBe(APPENDS);
      expect(raced).toEqual([]);
      expect(r.code, r.stderr).toBe(1);

      const [id] = await listJobIds({ env });
      const { job, actions } = await showJob(id, { env });
      expect(job.state).toBe('failed');
      const byRel = new Map(actions.map((a) => [path.relative(src, a.source), a]));
      const atSrc = treeManifest(src);
      const atDest = treeManifest(dest);
      expect([...atSrc.temps, ...atDest.temps]).toEqual([]);
      const reasons = new Map<string, number>();
      const problems: string[] = [];
      for (const rel of planned) {
        const a = byRel.get(rel)!;
        const s = atSrc.files.get(rel);
        const d = atDest.files.get(rel);
        const was = before.get(rel)!;
        if (a.state === 'failed') {
          const why = (a.reason ?? '').replace(/\/\S+/g, 'PATH').replace(/expected .*/, '…');
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
        }
        if (deleted.has(rel)) {
          // Deleted: ENOENT. A move's copy placed before the deletion is the only copy left, and whole.
          const ok =
            (a.state === 'failed' && /ENOENT/.test(a.reason ?? '') && (d === undefined || sameEntry(d, was))) ||
            (kind === 'copy' && a.state === 'done' && d !== undefined && sameEntry(d, was));
          if (!ok || s !== undefined) problems.push(`deleted ${rel}: ${a.state} ${a.reason}, at dest: ${d !== undefined}`);
        } else if (appended.has(rel)) {
          // Appended: the source is kept with its new byte; a copy at the destination, if any, is the
          // whole version planned (a move that caught the change after placing its copy keeps both).
          const sourceKept = s !== undefined && sameEntry(s, appended.get(rel)!);
          const ok =
            (a.state === 'failed' && /E_CHANGED/.test(a.reason ?? '') && (d === undefined || sameEntry(d, was))) ||
            (kind === 'copy' && a.state === 'done' && d !== undefined && sameEntry(d, was));
          if (!ok || !sourceKept) problems.push(`appended ${rel}: ${a.state} ${a.reason}, at dest: ${d?.size} of ${was.size}`);
        } else {
          // Untouched: done, byte-identical, exactly where the job puts it.
          const ok =
            a.state === 'done' &&
            d !== undefined &&
            sameEntry(d, was) &&
            (kind === 'copy' ? s !== undefined && sameEntry(s, was) : s === undefined);
          if (!ok) problems.push(`untouched ${rel}: ${a.state} ${a.reason}, at src ${s !== undefined}, at dest ${d !== undefined}`);
        }
      }
      expect(problems).toEqual([]);
      // Nothing else anywhere: every name is a planned one.
      expect([...atDest.files.keys()].filter((rel) => !before.has(rel))).toEqual([]);
      expect([...atSrc.files.keys()].filter((rel) => !before.has(rel))).toEqual([]);
      // Every failure is one of the changes the loop made.
      expect(
        actions.filter(
          (a) => a.state === 'failed' && !deleted.has(path.relative(src, a.source)) && !appended.has(path.relative(src, a.source)),
        ),
      ).toEqual([]);
      if (process.env.FILER_TEST_DEBUG) console.log(kind, Object.fromEntries(reasons), job.counts);
    });
  }
});

/** Runs `fn`; false when it failed with ENOENT (the file is gone), true when it succeeded. */
function ignoreEnoent(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

const sameEntry = (a: ManifestEntry, b: ManifestEntry): boolean => a.size === b.size && a.sha256 === b.sha256;
