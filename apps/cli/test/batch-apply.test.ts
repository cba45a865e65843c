import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, makeTree, runFiler, runProcess, type ProcessResult, type TreeSpec } from '@filer/testing';

/**
 * `filer copy|move|rename --apply` and `filer jobs show|undo`, black-box against the built CLI.
 * Every run gets its own XDG_CACHE_HOME, so the user's state database is never touched.
 */

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

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

/** Relative file path → content (utf8), for small text trees. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const p = path.join(dir, rel);
    if (fs.lstatSync(p).isFile()) out[rel] = fs.readFileSync(p, 'utf8');
  }
  return out;
}

let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-batch-apply-'));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** A fresh case: a source tree, a destination path (absent unless `destSpec`), a private state dir. */
function setup(srcSpec: TreeSpec, destSpec?: TreeSpec): { src: string; dest: string; env: NodeJS.ProcessEnv } {
  const caseDir = fs.mkdtempSync(path.join(base, 'case-'));
  const src = makeTree(srcSpec, { parent: caseDir, prefix: 'src-' }).root;
  const dest = destSpec ? makeTree(destSpec, { parent: caseDir, prefix: 'dest-' }).root : path.join(caseDir, 'dest');
  const cache = fs.mkdtempSync(path.join(caseDir, 'cache-'));
  return { src, dest, env: { XDG_CACHE_HOME: cache } };
}

const filer = (args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> => runFiler(args, { env, timeoutMs: 30_000 });

interface ShownAction {
  seq: number;
  source: string;
  target: string;
  size: number;
  overwrite: boolean;
  state: string;
  reason?: string;
}
interface ShownJob {
  id: string;
  kind: string;
  state: string;
  createdDirs: string[];
  counts: Record<string, number>;
}

/** The one job in this state db (from `jobs list`). */
async function onlyJobId(env: NodeJS.ProcessEnv): Promise<string> {
  const r = await filer(['jobs', 'list'], env);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  return lines[0].split(' ')[0];
}

async function show(id: string, env: NodeJS.ProcessEnv): Promise<{ job: ShownJob; actions: ShownAction[] }> {
  const r = await filer(['jobs', 'show', id, '--format', 'ndjson'], env);
  expect(r.code, r.stderr).toBe(0);
  const [first, ...rest] = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
  return { job: (first as { job: ShownJob }).job, actions: rest as ShownAction[] };
}

const byTarget = (actions: ShownAction[]): Record<string, string> => Object.fromEntries(actions.map((a) => [a.target, a.state]));

describe('apply', () => {
  it('jobs show, resume and undo of an unknown id exit 2, naming it (E_NOT_FOUND is an input error)', async () => {
    const { env } = setup({ 'a.txt': 'alpha' });
    for (const verb of ['show', 'resume', 'undo']) {
      const r = await filer(['jobs', verb, 'nosuchjob'], env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe("filer: ID: no job 'nosuchjob' (see filer jobs list)\n");
    }
  });

  it('jobs show lists every action of a job of several journal pages, in seq order, in both formats', async () => {
    // 2,500 actions: more than two of the pages (1,024 rows) jobs show reads the journal by.
    const spec: TreeSpec = {};
    for (let i = 0; i < 2500; i++) spec[`d${i % 7}/f${String(i).padStart(4, '0')}.txt`] = `${i}`;
    const { src, dest, env } = setup(spec);
    const r = await filer(['copy', src, '--dest', dest, '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    const id = await onlyJobId(env);
    const { job, actions } = await show(id, env);
    expect(job.counts.done).toBe(2500);
    expect(actions.map((a) => a.seq)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    expect(new Set(actions.map((a) => a.target)).size).toBe(2500);
    expect(actions.every((a) => a.state === 'done' && a.target.startsWith(dest + path.sep))).toBe(true);
    const text = await filer(['jobs', 'show', id], env);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n').filter((l) => l.startsWith('done '));
    expect(lines.map((l) => l.slice(l.indexOf('→') + 2))).toEqual(actions.map((a) => a.target));
  });

  it('copy keeps the tree, reports per-file states, and undo removes exactly what it made', async () => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;
    const { src, dest, env } = setup(
      {
        'a.txt': 'alpha',
        'empty.txt': '',
        'sub/b.txt': 'beta',
        'sub/deep/c.bin': { kind: 'file', content: big },
        'sub/deep/mode.sh': { kind: 'file', content: '#!/bin/sh\n', mode: 0o750 },
      },
      { 'keep.txt': 'not ours', 'sub/other.txt': 'not ours either' },
    );
    const srcBefore = listing(src);
    const destBefore = listing(dest);

    const r = await filer(['copy', src, '--dest', dest, '--apply'], env);
    expect(r.stderr).toMatch(
      /^filer: job \S+: journaled 5 actions; applying\nfiler: job \S+ completed: 5 done, 0 undone, 0 failed, 0 skipped, 0 pending\n$/,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`plan: 5 to copy`);
    expect(listing(src)).toEqual(srcBefore);
    // The destination holds its own files plus an exact copy of the source tree (modes included).
    const copied = listing(dest).filter((l) => !l.startsWith('keep.txt') && !l.startsWith('sub/other.txt'));
    expect(copied).toEqual(srcBefore);

    const id = await onlyJobId(env);
    const { job, actions } = await show(id, env);
    expect(job).toMatchObject({ id, kind: 'copy', state: 'completed', counts: { done: 5, failed: 0, pending: 0, undone: 0, skipped: 0 } });
    // Only the directory the job made is recorded: `sub` existed already.
    expect(job.createdDirs).toEqual([path.join(dest, 'sub/deep')]);
    expect(actions.map((a) => [a.source, a.target, a.state, a.size])).toEqual(
      ['a.txt', 'empty.txt', 'sub/b.txt', 'sub/deep/c.bin', 'sub/deep/mode.sh'].map((rel) => [
        path.join(src, rel),
        path.join(dest, rel),
        'done',
        fs.statSync(path.join(src, rel)).size,
      ]),
    );

    const u = await filer(['jobs', 'undo', id], env);
    expect(u.stderr).toBe(`filer: job ${id} undone: 0 done, 5 undone, 0 failed, 0 skipped, 0 pending\n`);
    expect(u.code).toBe(0);
    expect(listing(dest)).toEqual(destBefore);
    expect(listing(src)).toEqual(srcBefore);
    const after = await show(id, env);
    expect(after.job.state).toBe('undone');
    expect(after.actions.every((a) => a.state === 'undone')).toBe(true);
  });

  it('copy onto another file system (tmpfs) gives the same bytes and modes, and undo removes them', async (ctx) => {
    // copy_file_range refuses to cross file systems (EXDEV): the native copy reads and writes instead.
    if (!fs.existsSync('/dev/shm') || fs.statSync('/dev/shm').dev === fs.statSync(base).dev) ctx.skip();
    const big = Buffer.alloc(9 * 1024 * 1024 + 7); // more than one 8 MiB chunk
    for (let i = 0; i < big.length; i++) big[i] = (i * 13 + (i >> 11)) & 0xff;
    const { src, env } = setup({ 'big.bin': { kind: 'file', content: big, mode: 0o640 }, 'sub/small.txt': 'small' });
    const shm = fs.mkdtempSync('/dev/shm/filer-apply-');
    try {
      const dest = path.join(shm, 'dest');
      const r = await filer(['copy', src, '--dest', dest, '--apply'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(listing(dest)).toEqual(listing(src));
      expect(contents(dest)).toEqual(contents(src));
      const id = /job (\S+) completed/.exec(r.stderr)?.[1];
      expect((await filer(['jobs', 'undo', id!], env)).code).toBe(0);
      expect(fs.existsSync(path.join(dest, 'big.bin'))).toBe(false);
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });

  it('copy flushes every copy to disk unless --no-fsync (then only the journal is synced); move has no --no-fsync', async () => {
    const big = Buffer.alloc(9 << 20, 7); // above the size whose writeback starts during the copy
    const spec: TreeSpec = { 'a.txt': 'alpha', 'sub/big.bin': { kind: 'file', content: big } };
    /** The sync calls (fsync, fdatasync, syncfs, sync_file_range) a run made, with the file each was on. */
    const syncs = async (extra: string[]): Promise<{ dest: string; calls: string[]; env: NodeJS.ProcessEnv }> => {
      const { src, dest, env } = setup(spec);
      const log = path.join(path.dirname(dest), 'strace.log');
      const r = await runProcess(
        'strace',
        [
          '-f',
          '-y',
          '-o',
          log,
          '-e',
          'trace=fsync,fdatasync,syncfs,sync_file_range',
          process.execPath,
          FILER_BIN,
          'copy',
          src,
          '--dest',
          dest,
          '--apply',
          ...extra,
        ],
        { env, timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(listing(dest)).toEqual(listing(src));
      const calls = fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => /\b(fsync|fdatasync|syncfs|sync_file_range)\(/.test(l));
      return { dest, calls, env };
    };
    const durable = await syncs([]);
    expect(durable.calls.filter((c) => c.includes(durable.dest)).length).toBeGreaterThan(0);
    const loose = await syncs(['--no-fsync']);
    // The journal (the state database) is still synced before anything is touched: only the copies are not.
    expect(loose.calls.filter((c) => c.includes('filer')).length).toBeGreaterThan(0);
    expect(loose.calls.filter((c) => c.includes(loose.dest))).toEqual([]);
    expect((await show(await onlyJobId(loose.env), loose.env)).job).toMatchObject({ state: 'completed', counts: { done: 2 } });

    const { src, dest, env } = setup(spec);
    const m = await filer(['move', src, '--dest', dest, '--apply', '--no-fsync'], env);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/unknown option '--no-fsync'/);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('copy --flatten puts every file directly in --dest; undo removes the dest it created', async () => {
    const { src, dest, env } = setup({ 'x/one.txt': '1', 'y/two.txt': '2', 'y/z/three.txt': '3', 'top.txt': 't' });
    const srcBefore = listing(src);
    const r = await filer(['copy', src, '--dest', dest, '--flatten', '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(contents(dest)).toEqual({ 'one.txt': '1', 'two.txt': '2', 'three.txt': '3', 'top.txt': 't' });
    expect(fs.readdirSync(dest).sort()).toEqual(['one.txt', 'three.txt', 'top.txt', 'two.txt']);
    expect(listing(src)).toEqual(srcBefore);

    const id = await onlyJobId(env);
    const u = await filer(['jobs', 'undo', id], env);
    expect(u.code, u.stderr).toBe(0);
    expect(fs.existsSync(dest)).toBe(false);
    expect(listing(src)).toEqual(srcBefore);
  });

  it('move puts every file at its target and none at its source; undo restores both trees exactly', async () => {
    const { src, dest, env } = setup(
      {
        'a.txt': 'alpha',
        'sub/b.txt': 'beta',
        'sub/deep/c.txt': 'gamma',
        'sub/deep/x.sh': { kind: 'file', content: 'run', mode: 0o700 },
        emptydir: { kind: 'dir' },
      },
      { 'pre.txt': 'pre-existing' },
    );
    const srcBefore = listing(src);
    const destBefore = listing(dest);
    const srcFiles = contents(src);

    const r = await filer(['move', src, '--dest', dest, '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(contents(dest)).toEqual({ ...srcFiles, 'pre.txt': 'pre-existing' });
    expect(contents(src)).toEqual({});
    // The directories stay behind (only files move); modes travel with the files.
    expect(fs.statSync(path.join(dest, 'sub/deep/x.sh')).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(src, { recursive: true, encoding: 'utf8' }).sort()).toEqual(['emptydir', 'sub', 'sub/deep']);

    const id = await onlyJobId(env);
    const { job, actions } = await show(id, env);
    expect(job.kind).toBe('move');
    expect(job.state).toBe('completed');
    expect(actions).toHaveLength(4);
    expect(actions.every((a) => a.state === 'done')).toBe(true);

    const u = await filer(['jobs', 'undo', id], env);
    expect(u.code, u.stderr).toBe(0);
    expect(listing(src)).toEqual(srcBefore);
    expect(listing(dest)).toEqual(destBefore);
  });

  it('rename --apply by template renames in place; undo restores the names', async () => {
    const { src, env } = setup({ 'alpha/one.txt': '1', 'alpha/two.md': '2', 'beta/three.txt': '3', 'beta/sub/four': '4' });
    const before = listing(src);
    const r = await filer(['rename', src, '--to', '{parent}_{stem}-x{ext}', '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(contents(src)).toEqual({
      'alpha/alpha_one-x.txt': '1',
      'alpha/alpha_two-x.md': '2',
      'beta/beta_three-x.txt': '3',
      'beta/sub/sub_four-x': '4',
    });
    const id = await onlyJobId(env);
    const { job, actions } = await show(id, env);
    expect(job).toMatchObject({ kind: 'rename', state: 'completed', counts: { done: 4 } });
    expect(byTarget(actions)).toEqual({
      [path.join(src, 'alpha/alpha_one-x.txt')]: 'done',
      [path.join(src, 'alpha/alpha_two-x.md')]: 'done',
      [path.join(src, 'beta/beta_three-x.txt')]: 'done',
      [path.join(src, 'beta/sub/sub_four-x')]: 'done',
    });
    const u = await filer(['jobs', 'undo', id], env);
    expect(u.code, u.stderr).toBe(0);
    expect(listing(src)).toEqual(before);
  });

  it('rename chains (1→2, 2→3, 3→4) run in a safe order and undo in reverse', async () => {
    const { src, env } = setup({ '1': 'xx', '2': 'xxx', '3': 'xxxx' });
    const before = listing(src);
    const r = await filer(['rename', src, '--to', '{size}', '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(contents(src)).toEqual({ '2': 'xx', '3': 'xxx', '4': 'xxxx' });
    const u = await filer(['jobs', 'undo', await onlyJobId(env)], env);
    expect(u.code, u.stderr).toBe(0);
    expect(listing(src)).toEqual(before);
  });

  it('undo never overwrites a file that now stands at an original path: that action is reported, exit 1', async () => {
    const { src, dest, env } = setup({ 'a.txt': 'A', 'b.txt': 'B', 'c/d.txt': 'D' });
    const r = await filer(['move', src, '--dest', dest, '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    fs.writeFileSync(path.join(src, 'b.txt'), 'a newcomer');
    const id = await onlyJobId(env);

    const u = await filer(['jobs', 'undo', id], env);
    expect(u.stderr).toBe(
      `filer: ${path.join(src, 'b.txt')} → ${path.join(dest, 'b.txt')}: undo: something now stands at the original path; not overwritten\n` +
        `filer: job ${id} failed: 1 done, 2 undone, 0 failed, 0 skipped, 0 pending\n`,
    );
    expect(u.code).toBe(1);
    expect(contents(src)).toEqual({ 'a.txt': 'A', 'b.txt': 'a newcomer', 'c/d.txt': 'D' });
    // The moved file stays where the job put it, so nothing is lost; the emptied dirs are gone.
    expect(contents(dest)).toEqual({ 'b.txt': 'B' });
    expect(fs.readdirSync(dest)).toEqual(['b.txt']);
    const { job, actions } = await show(id, env);
    expect(job.state).toBe('failed');
    expect(actions.map((a) => [path.basename(a.source), a.state, a.reason ?? null])).toEqual([
      ['a.txt', 'undone', null],
      ['b.txt', 'done', 'undo: something now stands at the original path; not overwritten'],
      ['d.txt', 'undone', null],
    ]);
  });

  it('undo never deletes a copy that was modified (in place or replaced) after it was copied', async () => {
    const { src, dest, env } = setup({ 'a.txt': 'A', 'b.txt': 'B', 'c.txt': 'C' });
    const srcBefore = listing(src);
    const r = await filer(['copy', src, '--dest', dest, '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    const id = await onlyJobId(env);
    fs.appendFileSync(path.join(dest, 'a.txt'), ' edited');
    // Replaced by another file with the very same bytes: still not the file this job made.
    fs.writeFileSync(path.join(dest, '.b.new'), 'B');
    fs.renameSync(path.join(dest, '.b.new'), path.join(dest, 'b.txt'));

    const u = await filer(['jobs', 'undo', id], env);
    const kept = (n: string): string =>
      `filer: ${path.join(src, n)} → ${path.join(dest, n)}: undo: the copy changed since it was made; kept\n`;
    // Reported as undo meets them, newest action first (streamed, not gathered).
    expect(u.stderr).toBe(kept('b.txt') + kept('a.txt') + `filer: job ${id} failed: 2 done, 1 undone, 0 failed, 0 skipped, 0 pending\n`);
    expect(u.code).toBe(1);
    expect(contents(dest)).toEqual({ 'a.txt': 'A edited', 'b.txt': 'B' });
    expect(listing(src)).toEqual(srcBefore);
  });
});

describe('conflicts are all found in the plan: exit 3, nothing changed, nothing journaled', () => {
  interface ConflictLine {
    action: string;
    kind: string;
    source: string;
    target: string;
  }
  /** Runs ARGS (with --apply --format ndjson added) and checks that nothing changed anywhere. */
  async function refused(args: string[], dirs: string[], env: NodeJS.ProcessEnv): Promise<ConflictLine[]> {
    const before = dirs.map(listing);
    const r = await filer([...args, '--apply', '--format', 'ndjson'], env);
    expect(r.code, r.stderr).toBe(3);
    const conflicts = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as ConflictLine)
      .filter((l) => l.action === 'conflict');
    expect(r.stderr).toBe(`filer: ${conflicts.length} conflicts: nothing was changed (see --on-conflict)\n`);
    expect(dirs.map(listing)).toEqual(before);
    const jobs = await filer(['jobs', 'list'], env);
    expect(jobs.stdout).toBe('');
    return conflicts;
  }
  const kinds = (cs: ConflictLine[]): string[][] => cs.map((c) => [c.kind, path.basename(c.source), path.basename(c.target)]);

  it('two sources to one target (--flatten, same names)', async () => {
    const { src, dest, env } = setup({ 'a/x.txt': 'ax', 'b/x.txt': 'bx', 'b/y.txt': 'by' });
    const cs = await refused(['copy', src, '--dest', dest, '--flatten'], [src, dest], env);
    expect(cs.map((c) => [c.kind, c.source, c.target])).toEqual([['same-target', path.join(src, 'b/x.txt'), path.join(dest, 'x.txt')]]);
    const m = await refused(['move', src, '--dest', dest, '--flatten'], [src, dest], env);
    expect(kinds(m)).toEqual([['same-target', 'x.txt', 'x.txt']]);
  });

  it('an existing target', async () => {
    const { src, dest, env } = setup({ 'x.txt': 'new', 'y.txt': 'y', 'sub/z.txt': 'z' }, { 'sub/z.txt': 'old z' });
    expect(kinds(await refused(['copy', src, '--dest', dest], [src, dest], env))).toEqual([['target-exists', 'z.txt', 'z.txt']]);
    expect(kinds(await refused(['move', src, '--dest', dest], [src, dest], env))).toEqual([['target-exists', 'z.txt', 'z.txt']]);
  });

  it('a swap ab ↔ ba by rename --replace is refused as a cycle', async () => {
    const { src, env } = setup({ ab: 'was ab', ba: 'was ba', cd: 'was cd' });
    const cs = await refused(['rename', src, '--replace', '^(.)(.)$', '--with', '$2$1'], [src], env);
    expect(kinds(cs).sort()).toEqual([
      ['cycle', 'ab', 'ba'],
      ['cycle', 'ba', 'ab'],
    ]);
  });

  it('a 300-character name from a template', async () => {
    const { src, env } = setup({ 'one.txt': '1', 'two.txt': '2' });
    const long = await refused(['rename', src, '--to', `${'n'.repeat(300)}-{stem}{ext}`], [src], env);
    expect(long.map((c) => [c.kind, c.target])).toEqual([
      ['name-too-long', path.join(src, `${'n'.repeat(300)}-one.txt`)],
      ['name-too-long', path.join(src, `${'n'.repeat(300)}-two.txt`)],
    ]);
  });

  it("an invalid name from a template: a '..' component", async () => {
    const { src, env } = setup({ 'sub/one.txt': '1' });
    const dots = await refused(['rename', src, '--to', '../{name}'], [src], env);
    expect(kinds(dots)).toEqual([['invalid-name', 'one.txt', 'one.txt']]);
  });

  it('an invalid name from --replace: an empty name', async () => {
    const { src, env } = setup({ 'sub/one.txt': '1' });
    const empty = await refused(['rename', src, '--replace', '^.*$', '--with', ''], [src], env);
    // The file would have no name at all: an invalid name (not "the target already exists").
    expect(empty.map((c) => c.kind)).toEqual(['invalid-name']);
  });

  it("an invalid name from --replace: a '..' component leaving the file's directory", async () => {
    const { src, env } = setup({ 'sub/one.txt': '1' });
    // Refused like `--to '../{name}'` is: a base-name replacement must not move the file elsewhere.
    const dots = await refused(['rename', src, '--replace', '^(.*)$', '--with', '../$1'], [src], env);
    expect(dots.map((c) => c.kind)).toEqual(['invalid-name']);
  });

  it('a target whose parent directory is an existing file', async () => {
    const { src, dest, env } = setup({ 'sub/x.txt': 'x', 'y.txt': 'y' }, { sub: 'a file, not a directory' });
    // Found in the plan like any other conflict (not a crash of the planner on ENOTDIR).
    const cs = await refused(['copy', src, '--dest', dest], [src, dest], env);
    expect(cs.map((c) => [c.source, c.target])).toEqual([[path.join(src, 'sub/x.txt'), path.join(dest, 'sub/x.txt')]]);
  });

  it('--on-conflict skip leaves the existing target and copies the rest', async () => {
    const { src, dest, env } = setup({ 'x.txt': 'new x', 'y.txt': 'y' }, { 'x.txt': 'old x' });
    const r = await filer(['copy', src, '--dest', dest, '--apply', '--on-conflict', 'skip'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('plan: 1 to copy (1 B), 0 conflicts, 0 unchanged, 1 skipped');
    expect(contents(dest)).toEqual({ 'x.txt': 'old x', 'y.txt': 'y' });
  });

  it('--on-conflict suffix copies next to the existing target and to each other', async () => {
    const { src, dest, env } = setup({ 'a/x.txt': 'ax', 'b/x.txt': 'bx', 'b/noext': 'b-noext' }, { 'x.txt': 'old x', noext: 'old' });
    const r = await filer(['copy', src, '--dest', dest, '--flatten', '--apply', '--on-conflict', 'suffix'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(contents(dest)).toEqual({
      'x.txt': 'old x',
      'x (1).txt': 'ax',
      'x (2).txt': 'bx',
      noext: 'old',
      'noext (1)': 'b-noext',
    });
  });

  it('move --on-conflict overwrite on one device renames over the target and leaves no source', async () => {
    const { src, dest, env } = setup({ 'x.txt': 'new x', 'y.txt': 'y' }, { 'x.txt': 'old x' });
    const r = await filer(['move', src, '--dest', dest, '--apply', '--on-conflict', 'overwrite'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(contents(dest)).toEqual({ 'x.txt': 'new x', 'y.txt': 'y' });
    expect(contents(src)).toEqual({});
  });

  it('--on-conflict overwrite replaces the existing target (and says so in the plan)', async () => {
    const { src, dest, env } = setup({ 'x.txt': 'new x', 'y.txt': 'y' }, { 'x.txt': 'old x' });
    const r = await filer(['copy', src, '--dest', dest, '--apply', '--on-conflict', 'overwrite'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${path.join(src, 'x.txt')} → ${path.join(dest, 'x.txt')}  [overwrite]\n`);
    expect(contents(dest)).toEqual({ 'x.txt': 'new x', 'y.txt': 'y' });
    const { actions } = await show(await onlyJobId(env), env);
    expect(actions.map((a) => [path.basename(a.target), a.overwrite, a.state])).toEqual([
      ['x.txt', true, 'done'],
      ['y.txt', false, 'done'],
    ]);
    // With `fail` (the default) the same plan is refused.
    const again = setup({ 'x.txt': 'new x' }, { 'x.txt': 'old x' });
    const f = await filer(['copy', again.src, '--dest', again.dest, '--apply'], again.env);
    expect(f.code).toBe(3);
    expect(contents(again.dest)).toEqual({ 'x.txt': 'old x' });
  });
});
