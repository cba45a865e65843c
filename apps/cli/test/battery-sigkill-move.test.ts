import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  filesBelow,
  FILER_TEMP_NAME,
  listJobIds,
  runFiler,
  seededRandom,
  showJob,
  sleep,
  spawnFiler,
  TmpfsMounts,
  treeManifest,
  writeSeededTree,
} from '@filer/testing';

/**
 * Battery item 1, SIGKILL mid-move on one device (a tmpfs): 10,000 files of 0 B–1 MiB in 50 directories,
 * `filer move SRC --dest DST --apply` killed with SIGKILL at 10 seeded random moments, each run
 * after the first being `filer jobs resume ID`; then a last resume. After every kill nothing is
 * lost or doubled (on one device a move is a hard link and an unlink: every name still holds the
 * original inode), and every action the journal calls done is done; after the last resume the
 * destination's manifest (GNU find + sha256) equals the source's before, the source holds no
 * file, no `.filer-*.tmp` exists anywhere, exit 0.
 *
 * The moments: the first two are a seeded delay of 0–800 ms after the process starts (the
 * battery's `sleep $((RANDOM%800))ms`: they land while it plans, journals, or starts applying);
 * the other eight are seeded points of progress (a count of names linked at the destination), so
 * that they land inside the apply whatever the machine's speed — a fixed delay would often outlast
 * a whole resume (a full move of this tree takes about 2 s here).
 */

const FILES = 10_000;
const DIRS = 50;
const MiB = 1 << 20;
const SEED = 20_261_207;

let base: string;
let device: string;
const mounts = new TmpfsMounts();
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-battery-01-'));
  // Source and destination on one tmpfs: the same device, without writing 750 MB to a disk other
  // tests share (batch-faults.test.ts kills a move on the disk itself).
  device = mounts.mount(base, 'size=1g');
});
afterAll(() => {
  try {
    mounts.unmountAll();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

describe('battery 1: SIGKILL at 10 random moments of a 10,000-file move on one device', () => {
  it(
    'resume after each kill, then a last resume: DST = SRC before, byte for byte; SRC empty; no temp files; exit 0',
    { timeout: 300_000 },
    async () => {
      const t0 = Date.now();
      const src = path.join(device, 'src');
      const dest = path.join(device, 'out/dest');
      const env = { XDG_CACHE_HOME: path.join(base, 'cache') };
      const before = writeSeededTree(src, { files: FILES, dirs: DIRS, maxSize: MiB, seed: SEED });
      const bytes = [...before.values()].reduce((n, e) => n + e.size, 0);
      // On one device a moved file keeps its inode: a name holding another inode would be a copy or a stranger.
      const inodeOf = new Map([...before.keys()].map((rel) => [rel, fs.statSync(path.join(src, rel)).ino]));
      const log: string[] = [`tree: ${FILES} files, ${bytes} bytes, written in ${Date.now() - t0} ms`];

      const destDirs = [...new Set([...before.keys()].map((rel) => path.join(dest, path.dirname(rel))))];
      const linkedNow = (): number =>
        destDirs.reduce((n, d) => {
          try {
            return n + fs.readdirSync(d).length;
          } catch {
            return n; // not created yet
          }
        }, 0);

      /** After a kill: every file under its source or target name (or both, one inode), nothing else anywhere. */
      async function checkAfterKill(id: string | undefined, what: string): Promise<{ moved: number; state: string }> {
        const lost: string[] = [];
        const foreign: string[] = [];
        let moved = 0;
        for (const [rel, ino] of inodeOf) {
          const s = fs.lstatSync(path.join(src, rel), { throwIfNoEntry: false });
          const d = fs.lstatSync(path.join(dest, rel), { throwIfNoEntry: false });
          if (s === undefined && d === undefined) lost.push(rel);
          if (s === undefined) moved++;
          for (const st of [s, d]) if (st !== undefined && (st.ino !== ino || st.size !== before.get(rel)!.size)) foreign.push(rel);
        }
        expect(lost, `${what}: lost`).toEqual([]);
        expect(foreign, `${what}: a name holding another file`).toEqual([]);
        expect(
          filesBelow(src).filter((rel) => !before.has(rel)),
          `${what}: extra names at the source`,
        ).toEqual([]);
        expect(
          filesBelow(dest).filter((rel) => !before.has(rel)),
          `${what}: extra names at the destination`,
        ).toEqual([]);
        if (id === undefined) return { moved, state: 'no job yet' };
        const { job, actions } = await showJob(id, { env });
        expect(actions, what).toHaveLength(FILES);
        const notDone = actions.filter((a) => a.state === 'done' && (fs.existsSync(a.source) || !fs.existsSync(a.target)));
        expect(notDone, `${what}: journaled done, but not done`).toEqual([]);
        expect(
          actions.filter((a) => a.state !== 'done' && a.state !== 'pending'),
          what,
        ).toEqual([]);
        return { moved, state: job.state };
      }

      const rnd = seededRandom(SEED);
      let id: string | undefined;
      let kills = 0;
      let midApply = 0;
      let progressTargets: number[] | undefined;
      while (kills < 10) {
        const args = id === undefined ? ['move', src, '--dest', dest, '--apply'] : ['jobs', 'resume', id];
        const linkedAtStart = linkedNow();
        // The last eight moments: seeded points spread over what is left of the move once the timed kills are done.
        if (kills === 2 && progressTargets === undefined)
          progressTargets = Array.from({ length: 8 }, () => linkedAtStart + Math.floor(rnd() * (0.97 * FILES - linkedAtStart)))
            .sort((a, b) => a - b)
            .reverse();
        const delayMs = kills < 2 ? Math.floor(rnd() * 800) : undefined;
        const goal = delayMs === undefined ? Math.max(progressTargets!.pop()!, linkedAtStart + 1) : undefined;
        const run = spawnFiler(args, env);
        let exited = false;
        void run.exited.then(() => (exited = true));
        const start = Date.now();
        while (!exited) {
          if (delayMs !== undefined ? Date.now() - start >= delayMs : linkedNow() >= goal!) {
            run.child.kill('SIGKILL');
            break;
          }
          await sleep(5);
        }
        const r = await run.exited;
        const moment = delayMs !== undefined ? `${delayMs} ms after start` : `at ${goal} linked (${Date.now() - start} ms)`;
        // Every kill must land: the move or resume may not finish first.
        expect(r.signal, `${args.slice(0, 2).join(' ')} finished before the kill ${moment}: exit ${r.code} ${r.stderr}`).toBe('SIGKILL');
        kills++;
        if (id === undefined) {
          const ids = await listJobIds({ env });
          expect(ids.length).toBeLessThanOrEqual(1);
          id = ids[0];
        }
        const p = await checkAfterKill(id, `after kill ${kills} (${moment})`);
        log.push(`kill ${kills}: ${args[0] === 'move' ? 'move --apply' : 'jobs resume'} ${moment}: ${p.state}, ${p.moved} moved`);
        if (id === undefined)
          expect(fs.existsSync(dest)).toBe(false); // killed while planning: nothing touched
        else if (p.state === 'planned') expect(p.moved).toBe(0);
        else expect(p.state).toBe('applying');
        if (linkedNow() > linkedAtStart && p.moved < FILES) midApply++;
      }
      expect(id, log.join('\n')).toBeDefined();
      // The eight progress kills each land after this run linked at least one more file.
      expect(midApply, log.join('\n')).toBeGreaterThanOrEqual(8);

      const t1 = Date.now();
      const fin = await runFiler(['jobs', 'resume', id!], { env, timeoutMs: 120_000 });
      log.push(`last resume: ${Date.now() - t1} ms`);
      expect(fin.stderr).toBe(`filer: job ${id} completed: ${FILES} done, 0 undone, 0 failed, 0 skipped, 0 pending\n`);
      expect(fin.code).toBe(0);
      const after = treeManifest(dest);
      expect(after.temps).toEqual([]);
      expect(after.files.size).toBe(FILES);
      expect(after.files).toEqual(before);
      expect(filesBelow(src)).toEqual([]);
      expect(filesBelow(device).filter((rel) => FILER_TEMP_NAME.test(path.basename(rel)))).toEqual([]);
      expect((await showJob(id!, { env })).job).toMatchObject({ state: 'completed', counts: { done: FILES, pending: 0, failed: 0 } });
      log.push(`total: ${Date.now() - t0} ms`);
      if (process.env.FILER_TEST_DEBUG) console.log(log.join('\n'));
    },
  );
});
