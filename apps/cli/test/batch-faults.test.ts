import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFileOps } from '@filer/storage';
import { defaultStatePath, openStateDb, SqliteJournal } from '@filer/storage/state';
import {
  listJobIds,
  makeTree,
  runFiler,
  showJob,
  sleep,
  spawnFiler,
  TmpfsMounts,
  type ProcessResult,
  type RunFilerOptions,
} from '@filer/testing';

/**
 * Faults while `filer copy|move --apply` and `filer jobs resume|undo` run: SIGKILL at several
 * points (same device and across devices), a full disk, permission denied. Every run gets its own
 * XDG_CACHE_HOME; tmpfs mounts live under this file's temp dir and are always unmounted.
 */

const MiB = 1 << 20;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const TEMP_RE = /^\..+\.filer-[^/]*\.tmp$/;

let base: string;
const mounts = new TmpfsMounts();
const mountTmpfs = (options: string): string => mounts.mount(base, options);

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-batch-faults-'));
  fs.chmodSync(base, 0o755); // traversable by nobody (the permission cases)
});
afterAll(() => {
  try {
    mounts.unmountAll();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

function caseDir(): string {
  const d = fs.mkdtempSync(path.join(base, 'case-'));
  fs.chmodSync(d, 0o755);
  return d;
}

/** A recursive listing with types, modes and content hashes: equal listings mean equal trees. */
function listing(dir: string): string[] {
  if (!fs.existsSync(dir)) return ['<absent>'];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((rel) => {
      const p = path.join(dir, rel);
      const st = fs.lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) return `${rel}/ d${mode}`;
      if (st.isFile()) return `${rel} f${mode} ${st.size} ${sha256(fs.readFileSync(p))}`;
      return `${rel} other`;
    });
}

/** Every regular file below `dir`, relative. */
function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((rel) => fs.lstatSync(path.join(dir, rel)).isFile())
    .sort();
}

const readIfAny = (p: string): Buffer | undefined => {
  try {
    return fs.readFileSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
};

const filer = (args: string[], env: NodeJS.ProcessEnv, extra: RunFilerOptions = {}): Promise<ProcessResult> =>
  runFiler(args, { env, timeoutMs: 60_000, ...extra });

const jobIds = (env: NodeJS.ProcessEnv, extra: RunFilerOptions = {}): Promise<string[]> => listJobIds({ env, ...extra });
const show = (id: string, env: NodeJS.ProcessEnv, extra: RunFilerOptions = {}): ReturnType<typeof showJob> =>
  showJob(id, { env, ...extra });

describe('SIGKILL during move --apply, then jobs resume', () => {
  const DIRS = 100;
  const PER_DIR = 100;

  /** 10,000 small files in 100 directories and four of 3 MiB; returns rel → sha256. */
  function bigTree(root: string): Map<string, string> {
    const expected = new Map<string, string>();
    const write = (rel: string, data: Buffer): void => {
      fs.writeFileSync(path.join(root, rel), data);
      expected.set(rel, sha256(data));
    };
    for (let d = 0; d < DIRS; d++) {
      const dir = `d${String(d).padStart(3, '0')}`;
      fs.mkdirSync(path.join(root, dir), { recursive: true });
      const noise = randomBytes(PER_DIR * 64);
      for (let i = 0; i < PER_DIR; i++) {
        const rel = `${dir}/f${String(i).padStart(3, '0')}.dat`;
        write(rel, Buffer.concat([Buffer.from(`${rel}\n`), noise.subarray(i * 64, i * 64 + (i % 64))]));
      }
    }
    for (const d of ['d010', 'd040', 'd070', 'd090']) write(`${d}/large.bin`, randomBytes(3 * MiB));
    return expected;
  }

  interface Progress {
    moved: number;
    atSource: number;
    temps: string[];
    /** The job's state in the journal (`jobs show`), or 'no job yet'. */
    state: string;
  }

  /**
   * Whatever the moment of the kill: every file is at its source or its target (none lost), a file
   * under either name is complete and byte-identical, nothing else stands in the destination but
   * this job's hidden temp files (of copies cut short), and every action the journal calls done
   * really is done (target there, source gone).
   */
  async function checkInvariants(
    src: string,
    dest: string,
    expected: Map<string, string>,
    id: string | undefined,
    env: NodeJS.ProcessEnv,
  ): Promise<Progress> {
    const lost: string[] = [];
    const corrupt: string[] = [];
    let moved = 0;
    let atSource = 0;
    for (const [rel, hash] of expected) {
      const s = readIfAny(path.join(src, rel));
      const d = readIfAny(path.join(dest, rel));
      if (s !== undefined) {
        atSource++;
        if (sha256(s) !== hash) corrupt.push(`source ${rel}`);
      } else moved++;
      if (d !== undefined && sha256(d) !== hash) corrupt.push(`target ${rel}`);
      if (s === undefined && d === undefined) lost.push(rel);
    }
    expect(lost).toEqual([]);
    expect(corrupt).toEqual([]);
    const temps: string[] = [];
    const strays: string[] = [];
    for (const rel of filesBelow(dest)) {
      if (TEMP_RE.test(path.basename(rel))) temps.push(rel);
      else if (!expected.has(rel)) strays.push(rel);
    }
    expect(strays).toEqual([]);
    expect(filesBelow(src).filter((rel) => !expected.has(rel))).toEqual([]);
    // A copy cut short leaves its data only under the job's hidden temporary name beside its target.
    const tempOf = (rel: string): string => path.join(path.dirname(rel), `.${path.basename(rel)}.filer-${id}.tmp`);
    const allowedTemps = new Set(id === undefined ? [] : [...expected.keys()].map(tempOf));
    expect(temps.filter((t) => !allowedTemps.has(t))).toEqual([]);
    let state = 'no job yet';
    if (id !== undefined) {
      const { job, actions } = await show(id, env);
      state = job.state;
      expect(actions).toHaveLength(expected.size);
      const wrong = actions.filter((a) => a.state === 'done' && (fs.existsSync(a.source) || !fs.existsSync(a.target)));
      expect(wrong).toEqual([]);
      expect(actions.filter((a) => a.state !== 'done' && a.state !== 'pending')).toEqual([]);
    }
    return { moved, atSource, temps, state };
  }

  async function killAndResume(src: string, dest: string, destRoot: string): Promise<void> {
    const c = caseDir();
    fs.mkdirSync(src);
    const expected = bigTree(src);
    const srcBefore = listing(src);
    const destRootBefore = listing(destRoot);
    const env = { XDG_CACHE_HOME: path.join(c, 'cache') };

    // Files no longer at their source, counted cheaply while the CLI runs.
    const srcDirs = fs.readdirSync(src).map((d) => path.join(src, d));
    const movedNow = (): number => expected.size - srcDirs.reduce((n, d) => n + fs.readdirSync(d).length, 0);
    // Kills after fixed delays (while planning, or early on), then at points of progress: each
    // later kill waits for at least 5% more files to have moved, so it lands mid-job. (A third
    // fixed delay, 1 s, sometimes outlasted a whole resume on a fast machine.)
    const triggers: ({ afterMs: number } | { moved: number })[] = [
      { afterMs: 50 },
      { afterMs: 300 },
      { moved: 0.05 },
      { moved: 0.1 },
      { moved: 0.35 },
      { moved: 0.6 },
      { moved: 0.85 },
    ];
    let id: string | undefined;
    let landed = 0;
    let lastMoved = 0;
    const log: string[] = [];
    for (const trigger of triggers) {
      if (landed >= 3) break;
      const args = id === undefined ? ['move', src, '--dest', dest, '--apply'] : ['jobs', 'resume', id];
      const run = spawnFiler(args, env);
      let exited = false;
      void run.exited.then(() => (exited = true));
      const start = Date.now();
      const goal = 'moved' in trigger ? Math.max(trigger.moved * expected.size, lastMoved + 0.05 * expected.size) : 0;
      while (!exited) {
        if ('afterMs' in trigger ? Date.now() - start >= trigger.afterMs : movedNow() >= goal) {
          run.child.kill('SIGKILL');
          break;
        }
        await sleep(5);
      }
      const r = await run.exited;
      const what = 'afterMs' in trigger ? `after ${trigger.afterMs} ms` : `at ${Math.round(goal)} moved (${Date.now() - start} ms)`;
      if (r.signal === null) {
        log.push(`${args[0] === 'move' ? 'move --apply' : 'jobs resume'} finished before the kill ${what} (exit ${r.code})`);
        expect(r.code, r.stderr).toBe(0);
        break;
      }
      expect(r.signal).toBe('SIGKILL');
      if (id === undefined) {
        const ids = await jobIds(env);
        expect(ids.length).toBeLessThanOrEqual(1);
        id = ids[0];
      }
      const p = await checkInvariants(src, dest, expected, id, env);
      log.push(
        `${args[0] === 'move' ? 'move --apply' : 'jobs resume'} killed ${what}: ${p.state}, ${p.moved} moved, ${p.temps.length} temps`,
      );
      if (id === undefined) {
        // Killed while planning: nothing was touched.
        expect(p.moved).toBe(0);
        expect(fs.existsSync(dest)).toBe(false);
        continue;
      }
      // Killed between journaling the plan and starting on it, or while applying it.
      if (p.state === 'planned') expect(p.moved).toBe(0);
      else expect(p.state).toBe('applying');
      if (p.moved > lastMoved && p.moved < expected.size) landed++;
      lastMoved = p.moved;
    }
    if (process.env.FILER_TEST_DEBUG) console.log(log.join('\n'));
    expect(landed, log.join('\n')).toBeGreaterThanOrEqual(3);
    expect(id).toBeDefined();

    let t0 = Date.now();
    const fin = await filer(['jobs', 'resume', id!], env);
    log.push(`final resume: ${Date.now() - t0} ms`);
    expect(fin.stderr).toBe(`filer: job ${id} completed: ${expected.size} done, 0 undone, 0 failed, 0 skipped, 0 pending\n`);
    expect(fin.code).toBe(0);
    // Every file at its destination exactly once and byte-identical; none at the source; no temps.
    const p = await checkInvariants(src, dest, expected, id, env);
    expect(p.moved).toBe(expected.size);
    expect(p.temps).toEqual([]);
    expect(filesBelow(dest)).toEqual([...expected.keys()].sort());
    expect(filesBelow(src)).toEqual([]);
    const { job } = await show(id!, env);
    expect(job).toMatchObject({ state: 'completed', counts: { done: expected.size, pending: 0, failed: 0 } });

    t0 = Date.now();
    const undo = await filer(['jobs', 'undo', id!], env);
    log.push(`undo: ${Date.now() - t0} ms`);
    if (process.env.FILER_TEST_DEBUG) console.log(log.slice(-2).join('\n'));
    expect(undo.stderr).toBe(`filer: job ${id} undone: 0 done, ${expected.size} undone, 0 failed, 0 skipped, 0 pending\n`);
    expect(undo.code).toBe(0);
    expect(listing(src)).toEqual(srcBefore);
    expect(listing(destRoot)).toEqual(destRootBefore);
    expect(fs.existsSync(dest)).toBe(false);
  }

  it('on the same device', { timeout: 120_000 }, async () => {
    const c = caseDir();
    await killAndResume(path.join(c, 'src'), path.join(c, 'out', 'dest'), path.join(c, 'out'));
  });

  it('across devices (destination on a 256m tmpfs)', { timeout: 120_000 }, async () => {
    const c = caseDir();
    const mnt = mountTmpfs('size=256m');
    await killAndResume(path.join(c, 'src'), path.join(mnt, 'dest'), mnt);
    expect(fs.readdirSync(mnt)).toEqual([]);
  });
});

describe('SIGKILL during copy --apply --no-fsync, then jobs resume', () => {
  it(
    'the page cache outlives the process: resume finishes every copy byte-identical, sources untouched',
    { timeout: 120_000 },
    async () => {
      const c = caseDir();
      const src = path.join(c, 'src');
      const dest = path.join(c, 'dest');
      const expected = new Map<string, string>();
      for (let d = 0; d < 20; d++) {
        fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
        for (let i = 0; i < 100; i++) {
          const rel = `d${d}/f${i}.dat`;
          const data = i % 50 === 0 ? randomBytes(3 * MiB) : randomBytes(100 + i);
          fs.writeFileSync(path.join(src, rel), data);
          expected.set(rel, sha256(data));
        }
      }
      const srcBefore = listing(src);
      const env = { XDG_CACHE_HOME: path.join(c, 'cache') };
      const run = spawnFiler(['copy', src, '--dest', dest, '--apply', '--no-fsync'], env);
      let exited = false;
      void run.exited.then(() => (exited = true));
      // Counted from listings alone while the CLI runs: its temporary files come and go.
      const copied = (): number =>
        Array.from({ length: 20 }, (_, d) => path.join(dest, `d${d}`))
          .filter((dir) => fs.existsSync(dir))
          .reduce((n, dir) => n + fs.readdirSync(dir).filter((name) => !name.startsWith('.')).length, 0);
      while (!exited && (!fs.existsSync(dest) || copied() < expected.size * 0.2)) await sleep(5);
      run.child.kill('SIGKILL');
      const r = await run.exited;
      const [id] = await jobIds(env);
      expect(id).toBeDefined();
      expect(r.signal).toBe('SIGKILL');
      expect(copied()).toBeGreaterThan(0);
      expect(copied()).toBeLessThan(expected.size);
      // Whatever was linked into place is complete: a copy's name appears only after its bytes are written.
      for (const rel of filesBelow(dest).filter((f) => expected.has(f)))
        expect(sha256(fs.readFileSync(path.join(dest, rel))), rel).toBe(expected.get(rel));

      const fin = await filer(['jobs', 'resume', id], env);
      expect(fin.stderr).toBe(`filer: job ${id} completed: ${expected.size} done, 0 undone, 0 failed, 0 skipped, 0 pending\n`);
      expect(fin.code).toBe(0);
      expect(filesBelow(dest)).toEqual([...expected.keys()].sort());
      for (const [rel, hash] of expected) expect(sha256(fs.readFileSync(path.join(dest, rel))), rel).toBe(hash);
      expect(listing(src)).toEqual(srcBefore);
    },
  );
});

describe('jobs resume decides each action from what a crash left on disk', () => {
  it('finishes interrupted moves without doing anything twice and never overwrites a stranger', async () => {
    const c = caseDir();
    const src = makeTree(
      { 'a.txt': 'A data', 'b.txt': 'B data', 'c.txt': 'C data', 'd.txt': 'D data', 'e.txt': 'E data' },
      { parent: c, prefix: 'src-' },
    ).root;
    const dest = makeTree({}, { parent: c, prefix: 'dest-' }).root;
    const env = { XDG_CACHE_HOME: path.join(c, 'cache') };
    // The job as `move --apply` journals it, then the crash states, one per action.
    const db = openStateDb(defaultStatePath(env));
    let id: string;
    try {
      const journal = new SqliteJournal(db);
      const names = ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'];
      const job = journal.create(
        'move',
        names.map((n) => ({
          source: path.join(src, n),
          target: path.join(dest, n),
          size: 6,
          overwrite: false,
          sourceId: new LocalFileOps().stat(path.join(src, n)),
        })),
        { onConflict: 'fail', verify: false },
      );
      journal.setJobState(job.id, 'applying');
      id = job.id;
    } finally {
      db.close();
    }
    const at = (dir: string, n: string): string => path.join(dir, n);
    fs.writeFileSync(at(dest, `.a.txt.filer-${id}.tmp`), 'A d'); // a copy cut short
    fs.linkSync(at(src, 'b.txt'), at(dest, 'b.txt')); // between link and unlink
    fs.copyFileSync(at(src, 'c.txt'), at(dest, 'c.txt')); // a copy across devices linked into place, source not yet removed
    fs.renameSync(at(src, 'd.txt'), at(dest, 'd.txt')); // done, not yet journaled
    fs.writeFileSync(at(dest, 'e.txt'), 'a stranger'); // someone else's file at the target

    const r = await filer(['jobs', 'resume', id], env);
    expect(r.stderr).toBe(
      `filer: ${at(src, 'e.txt')} → ${at(dest, 'e.txt')}: target exists (not overwritten)\n` +
        `filer: job ${id} failed: 4 done, 0 undone, 1 failed, 0 skipped, 0 pending\n`,
    );
    expect(r.code).toBe(1);
    expect(Object.fromEntries(filesBelow(dest).map((n) => [n, fs.readFileSync(at(dest, n), 'utf8')]))).toEqual({
      'a.txt': 'A data',
      'b.txt': 'B data',
      'c.txt': 'C data',
      'd.txt': 'D data',
      'e.txt': 'a stranger',
    });
    expect(filesBelow(src)).toEqual(['e.txt']);
    expect(fs.readFileSync(at(src, 'e.txt'), 'utf8')).toBe('E data');
    const { actions } = await show(id, env);
    expect(actions.map((a) => [path.basename(a.source), a.state, a.reason ?? null])).toEqual([
      ['a.txt', 'done', null],
      ['b.txt', 'done', null],
      ['c.txt', 'done', null],
      ['d.txt', 'done', null],
      ['e.txt', 'failed', 'target exists (not overwritten)'],
    ]);
  });
});

describe('disk full', () => {
  it('the free-space check refuses a copy (and a move) before anything is written: exit 3', async () => {
    const c = caseDir();
    const mnt = mountTmpfs('size=8m');
    const sizes = [3, 3, 3, 2.5, 2.5, 2, 2, 1.5, 1].map((m) => m * MiB);
    const src = path.join(c, 'src');
    fs.mkdirSync(src);
    sizes.forEach((n, i) => fs.writeFileSync(path.join(src, `f${i}.bin`), randomBytes(n)));
    const total = sizes.reduce((a, b) => a + b, 0);
    const before = listing(src);
    const env = { XDG_CACHE_HOME: path.join(c, 'cache') };

    for (const kind of ['copy', 'move']) {
      const r = await filer([kind, src, '--dest', path.join(mnt, 'out'), '--apply'], env);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines[0]).toMatch(/^filer: job \S+: journaled 9 actions; applying$/);
      expect(lines[1]).toMatch(/^filer: job \S+ failed: 0 done, 0 undone, 0 failed, 0 skipped, 9 pending$/);
      expect(lines[2]).toContain(`filer: not enough free space: ${total} bytes to copy, 8388608 available at ${mnt}/out`);
      expect(lines).toHaveLength(3);
      expect(r.code).toBe(3);
      expect(fs.readdirSync(mnt)).toEqual([]);
      expect(listing(src)).toEqual(before);
    }
    const ids = await jobIds(env);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect((await show(id, env)).job).toMatchObject({ state: 'failed', counts: { pending: 9, done: 0 } });
  });

  it('the disk fills up mid-copy: the job stops cleanly (exit 3), no partial file, resumable after freeing space', async () => {
    // 1,500 files of 100 bytes and two large ones: 5.1 MiB of data pass the check against 8 MiB free,
    // but every small file takes a whole 4 KiB page, so the disk fills up at the large files.
    const c = caseDir();
    const mnt = mountTmpfs('size=8m');
    const src = path.join(c, 'src');
    const dest = path.join(mnt, 'out');
    const expected = new Map<string, string>();
    const put = (rel: string, data: Buffer): void => {
      fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
      fs.writeFileSync(path.join(src, rel), data);
      expected.set(rel, sha256(data));
    };
    for (let i = 0; i < 1500; i++)
      put(`a/s${String(i).padStart(4, '0')}.txt`, Buffer.concat([Buffer.from(`${i}:`), randomBytes(95)]).subarray(0, 100));
    put('b/big1.bin', randomBytes(3 * MiB));
    put('b/big2.bin', randomBytes(2 * MiB));
    const before = listing(src);
    const env = { XDG_CACHE_HOME: path.join(c, 'cache') };

    const r = await filer(['copy', src, '--dest', dest, '--apply'], env);
    const [id] = await jobIds(env);
    const { job, actions } = await show(id, env);
    const failed = actions.filter((a) => a.state === 'failed');
    const pending = actions.filter((a) => a.state === 'pending');
    const done = actions.filter((a) => a.state === 'done');
    expect(r.code, r.stderr).toBe(3);
    expect(job.state).toBe('failed');
    // Whatever was attempted concurrently: at least b/big1.bin met the full disk, only with ENOSPC.
    expect(failed.map((a) => path.relative(dest, a.target))).toContain('b/big1.bin');
    expect(failed.filter((a) => !/ENOSPC/.test(a.reason ?? ''))).toEqual([]);
    expect(done.length + failed.length + pending.length).toBe(1502);
    expect(done.length).toBeGreaterThan(1000);

    // Clear messages: the ENOSPC per file, the counts, then why the job stopped and what to do.
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines[0]).toBe(`filer: job ${id}: journaled 1502 actions; applying`);
    const perFile = lines.slice(1, 1 + failed.length);
    expect(perFile).toEqual(
      failed.map((a) => expect.stringMatching(new RegExp(`^filer: ${a.source} → ${a.target}: .*ENOSPC.*no space left on device`))),
    );
    expect(lines.slice(1 + failed.length)).toEqual([
      `filer: job ${id} failed: ${done.length} done, 0 undone, ${failed.length} failed, 0 skipped, ${pending.length} pending`,
      expect.stringMatching(
        new RegExp(`^filer: disk full while copying .*: the job stopped; \\d+ files were not attempted \\(resume after freeing space\\)$`),
      ),
    ]);
    // The errno is named once: `ENOSPC: no space left on device`, not `ENOSPC: ENOSPC: …`.
    for (const l of perFile) expect.soft(l).not.toContain('ENOSPC: ENOSPC');
    // "not attempted" counts exactly the actions still pending.
    expect.soft(lines[lines.length - 1]).toContain(`the job stopped; ${pending.length} files were not attempted`);

    // No partial file under a final or temporary name: only done actions' targets, each complete.
    expect(filesBelow(dest)).toEqual(done.map((a) => path.relative(dest, a.target)).sort());
    for (const rel of filesBelow(dest)) expect(sha256(fs.readFileSync(path.join(dest, rel))), rel).toBe(expected.get(rel));
    expect(listing(src)).toEqual(before);

    // Freeing space (a larger tmpfs) and resuming, as the message says, finishes the job: the copies
    // that met the full disk are tried again, not reported failed once more.
    execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
    const again = await filer(['jobs', 'resume', id], env);
    expect.soft(again.stderr).toBe(`filer: job ${id} completed: 1502 done, 0 undone, 0 failed, 0 skipped, 0 pending\n`);
    expect.soft(again.code).toBe(0);
    expect.soft(filesBelow(dest)).toEqual([...expected.keys()].sort());
    for (const rel of filesBelow(dest)) expect(sha256(fs.readFileSync(path.join(dest, rel))), rel).toBe(expected.get(rel));
    expect(filesBelow(dest).filter((rel) => TEMP_RE.test(path.basename(rel)))).toEqual([]);

    const undo = await filer(['jobs', 'undo', id], env);
    expect(fs.readdirSync(mnt)).toEqual([]);
    expect(listing(src)).toEqual(before);
    expect((await show(id, env)).job.state).toBe('undone');
    expect.soft(undo.code, undo.stderr).toBe(0);
  });

  it('LocalFileOps.move across devices onto a nearly full tmpfs throws ENOSPC and leaves nothing under the temp or final name', async () => {
    const c = caseDir();
    const mnt = mountTmpfs('size=2m');
    fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(2 * MiB - 256 * 1024));
    const source = path.join(c, 'big.bin');
    const data = randomBytes(1 * MiB);
    fs.writeFileSync(source, data);
    const ops = new LocalFileOps();
    let code: string | undefined;
    try {
      // Across devices a move stages a copy under a hidden temp name, flushes it, links it into place.
      await ops.move(source, path.join(mnt, 'moved.bin'), {
        overwrite: false,
        verify: true,
        tmpTag: 'filer-t1',
        expect: ops.stat(source)!,
      });
    } catch (e) {
      code = (e as NodeJS.ErrnoException).code;
    }
    expect(code).toBe('ENOSPC');
    expect(fs.readdirSync(mnt)).toEqual(['filler']);
    expect(sha256(fs.readFileSync(source))).toBe(sha256(data));
  });
});

describe('permission denied (as nobody)', () => {
  const nobody = { user: 'nobody', group: 'nogroup' };

  it('an unreadable source and an unwritable destination directory fail per file; the rest are copied; exit 1', async () => {
    const c = caseDir();
    const src = makeTree(
      {
        'a.txt': 'A',
        'secret.txt': { kind: 'file', content: 'root only', mode: 0o600 },
        'locked/c.txt': 'C',
        'open/d.txt': 'D',
        'z.txt': 'Z',
      },
      { parent: c, prefix: 'src-' },
    ).root;
    const dest = makeTree({ locked: { kind: 'dir', mode: 0o555 } }, { parent: c, prefix: 'dest-', rootMode: 0o777 }).root;
    const cache = path.join(c, 'cache');
    fs.mkdirSync(cache);
    fs.chownSync(cache, 65534, 65534);
    const env = { XDG_CACHE_HOME: cache };
    const srcBefore = listing(src);

    const r = await filer(['copy', src, '--dest', dest, '--apply'], env, { asUser: nobody });
    const [id] = await jobIds(env, { asUser: nobody });
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines[0]).toBe(`filer: job ${id}: journaled 5 actions; applying`);
    expect(lines[1]).toMatch(
      new RegExp(
        `^filer: ${src}/locked/c\\.txt → ${dest}/locked/c\\.txt: (?:EACCES: )?EACCES: permission denied, copyfile '${src}/locked/c\\.txt' -> '${dest}/locked/\\.c\\.txt\\.filer-${id}\\.tmp'$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^filer: ${src}/secret\\.txt → ${dest}/secret\\.txt: (?:EACCES: )?EACCES: permission denied, copyfile `),
    );
    expect(lines[3]).toBe(`filer: job ${id} failed: 3 done, 0 undone, 2 failed, 0 skipped, 0 pending`);
    expect(lines).toHaveLength(4);
    expect(r.code).toBe(1);
    // The errno is named once: `EACCES: permission denied`, not `EACCES: EACCES: …`.
    expect.soft(lines[1]).toContain(`/locked/c.txt: EACCES: permission denied, copyfile`);
    expect.soft(lines[2]).toContain(`/secret.txt: EACCES: permission denied, copyfile`);

    expect(filesBelow(dest)).toEqual(['a.txt', 'open/d.txt', 'z.txt']);
    expect(fs.readFileSync(path.join(dest, 'open/d.txt'), 'utf8')).toBe('D');
    expect(fs.readdirSync(path.join(dest, 'locked'))).toEqual([]);
    expect(listing(src)).toEqual(srcBefore);

    const { job, actions } = await show(id, env, { asUser: nobody });
    expect(job).toMatchObject({ state: 'failed', counts: { done: 3, failed: 2, pending: 0 } });
    expect(actions.map((a) => [path.relative(src, a.source), a.state, a.reason?.split(':')[0] ?? null])).toEqual([
      ['a.txt', 'done', null],
      ['locked/c.txt', 'failed', 'EACCES'],
      ['open/d.txt', 'done', null],
      ['secret.txt', 'failed', 'EACCES'],
      ['z.txt', 'done', null],
    ]);

    // Undo removes the three copies; the two failed actions were never done, so there is nothing
    // to report about them now: the undo itself succeeded.
    const undo = await filer(['jobs', 'undo', id], env, { asUser: nobody });
    expect(filesBelow(dest)).toEqual([]);
    expect(fs.readdirSync(dest).sort()).toEqual(['locked']);
    expect(listing(src)).toEqual(srcBefore);
    expect((await show(id, env, { asUser: nobody })).job).toMatchObject({ state: 'undone', counts: { undone: 3, failed: 2 } });
    expect.soft(undo.stderr).toBe(`filer: job ${id} undone: 0 done, 3 undone, 2 failed, 0 skipped, 0 pending\n`);
    expect.soft(undo.code).toBe(0);
  });
});
