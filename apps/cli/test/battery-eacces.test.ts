import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJobIds, runFiler, showJob, treeManifest, type ProcessResult } from '@filer/testing';

/**
 * Battery item 7, EACCES as an unprivileged user: a tree owned by nobody with one source
 * directory `chmod 000`, one source file `chmod 000` and one destination directory `chmod 555`;
 * the CLI runs as nobody (setpriv; the child checks it is not root before it execs filer — root
 * would read and write through every mode). Each denied path is on stderr, in the job's record
 * with code EACCES (`jobs show --format ndjson`: the walk's in `pathErrors`, the actions' in their
 * reasons), and, with `--log-format json`, in exactly one JSON line with jobId, code and path;
 * everything else is done; exit 1; the parts the job may not touch are unchanged.
 * (batch-faults.test.ts covers a root-owned unreadable file and the undo of such a job.)
 */

const NOBODY = { user: 'nobody', group: 'nogroup' };
let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-battery-07-'));
  fs.chmodSync(base, 0o755);
});
afterAll(() => {
  // Modes first: root could remove it anyway, but leave nothing half-readable behind either.
  for (const rel of fs.readdirSync(base, { recursive: true, encoding: 'utf8' })) {
    const p = path.join(base, rel);
    if (fs.lstatSync(p).isDirectory()) fs.chmodSync(p, 0o755);
  }
  fs.rmSync(base, { recursive: true, force: true });
});

interface Case {
  src: string;
  dest: string;
  env: NodeJS.ProcessEnv;
}

/** The tree of the battery, all owned by nobody. */
function newCase(): Case {
  const dir = fs.mkdtempSync(path.join(base, 'case-'));
  fs.chmodSync(dir, 0o755);
  const src = path.join(dir, 'src');
  const dest = path.join(dir, 'dest');
  const files: Record<string, string> = {
    'a.txt': 'A',
    'open/d.txt': 'D',
    'deep/x/y.txt': 'Y',
    'locked/c.txt': 'in a directory nobody may read',
    'secret.txt': 'a file nobody may read',
    'ro/r.txt': 'bound for a directory nobody may write',
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), text);
  }
  fs.mkdirSync(path.join(dest, 'ro'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'cache'));
  for (const rel of ['', ...fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })]) fs.lchownSync(path.join(dir, rel), 65534, 65534);
  fs.chmodSync(path.join(src, 'locked'), 0o000);
  fs.chmodSync(path.join(src, 'secret.txt'), 0o000);
  fs.chmodSync(path.join(dest, 'ro'), 0o555);
  return { src, dest, env: { XDG_CACHE_HOME: path.join(dir, 'cache') } };
}

const asNobody = (args: string[], c: Case): Promise<ProcessResult> => runFiler(args, { env: c.env, asUser: NOBODY, timeoutMs: 60_000 });

describe('battery 7: permission denied, as nobody', () => {
  it('the child checks it is not root before it becomes filer (a permission test run as root would pass vacuously)', async () => {
    const r = await runFiler(['--version'], { asUser: NOBODY });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const root = await runFiler(['--version'], { asUser: { user: 'root', group: 'root' } });
    expect(root.code).toBe(125);
    expect(root.stderr).toBe('runFiler: still root after setpriv\n');
    expect(root.stdout).toBe('');
  });

  it('copy with --log-format json: one JSON line per denied path (jobId, code, path), the record holds each; the rest copied; exit 1', async () => {
    const c = newCase();
    const srcBefore = treeManifest(c.src);
    const r = await asNobody(['--log-format', 'json', 'copy', c.src, '--dest', c.dest, '--apply'], c);
    expect(r.code, r.stderr).toBe(1);
    const [id] = await listJobIds({ env: c.env, asUser: NOBODY });

    // stderr: JSON lines only; the errors are exactly the three denied paths, each once, with the job's id.
    const logged = r.stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.every((l) => typeof l.time === 'string' && typeof l.pid === 'number' && l.name === 'filer')).toBe(true);
    const errors = logged.filter((l) => l.level === 50);
    expect(errors.map(({ jobId, code, path: p, target }) => ({ jobId, code, path: p, target }))).toEqual([
      { jobId: id, code: 'EACCES', path: path.join(c.src, 'locked'), target: undefined },
      { jobId: id, code: 'EACCES', path: path.join(c.src, 'ro/r.txt'), target: path.join(c.dest, 'ro/r.txt') },
      { jobId: id, code: 'EACCES', path: path.join(c.src, 'secret.txt'), target: path.join(c.dest, 'secret.txt') },
    ]);
    for (const e of errors) expect(e.msg).toMatch(/^EACCES: permission denied/);
    expect(logged.filter((l) => l.level === 30).map((l) => l.msg)).toEqual([
      `job ${id}: journaled 5 actions; applying`,
      `job ${id} failed: 3 done, 0 undone, 2 failed, 0 skipped, 0 pending`,
    ]);

    // The job's record names all three with EACCES.
    const { job, actions } = await showJob(id, { env: c.env, asUser: NOBODY });
    expect(job.pathErrors).toEqual([expect.objectContaining({ path: path.join(c.src, 'locked'), code: 'EACCES' })]);
    expect(actions.map((a) => [path.relative(c.src, a.source), a.state, a.reason?.split(':')[0] ?? null])).toEqual([
      ['a.txt', 'done', null],
      ['deep/x/y.txt', 'done', null],
      ['open/d.txt', 'done', null],
      ['ro/r.txt', 'failed', 'EACCES'],
      ['secret.txt', 'failed', 'EACCES'],
    ]);

    // Everything else copied; the source (read as root) and the read-only directory unchanged.
    const copied = treeManifest(c.dest);
    expect([...copied.files.keys()]).toEqual(['a.txt', 'deep/x/y.txt', 'open/d.txt']);
    for (const [rel, e] of copied.files) expect(e).toEqual(srcBefore.files.get(rel));
    expect(copied.temps).toEqual([]);
    expect(fs.readdirSync(path.join(c.dest, 'ro'))).toEqual([]);
    expect(treeManifest(c.src)).toEqual(srcBefore);
  });

  it('move, text on stderr: each denied path named with EACCES; the record holds each; the rest moved; exit 1', async () => {
    const c = newCase();
    const srcBefore = treeManifest(c.src);
    const r = await asNobody(['move', c.src, '--dest', c.dest, '--apply'], c);
    expect(r.code, r.stderr).toBe(1);
    const [id] = await listJobIds({ env: c.env, asUser: NOBODY });
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toEqual([
      `filer: ${path.join(c.src, 'locked')}: permission denied [EACCES]`,
      `filer: job ${id}: journaled 5 actions; applying`,
      expect.stringMatching(new RegExp(`^filer: ${c.src}/ro/r\\.txt → ${c.dest}/ro/r\\.txt: EACCES: permission denied, link `)),
      `filer: job ${id} failed: 4 done, 0 undone, 1 failed, 0 skipped, 0 pending`,
    ]);
    const { job, actions } = await showJob(id, { env: c.env, asUser: NOBODY });
    expect(job.pathErrors).toEqual([expect.objectContaining({ path: path.join(c.src, 'locked'), code: 'EACCES' })]);
    expect(actions.filter((a) => a.state !== 'done').map((a) => [path.relative(c.src, a.source), a.reason?.split(':')[0]])).toEqual([
      ['ro/r.txt', 'EACCES'],
    ]);
    // On one device a move is a hard link and an unlink: the owner moves its own unreadable file
    // (as mv does); the unreadable directory and the file bound for the read-only one stay.
    const moved = treeManifest(c.dest);
    expect([...moved.files.keys()]).toEqual(['a.txt', 'deep/x/y.txt', 'open/d.txt', 'secret.txt']);
    for (const [rel, e] of moved.files) expect(e).toEqual(srcBefore.files.get(rel));
    const left = treeManifest(c.src);
    expect([...left.files.keys()]).toEqual(['locked/c.txt', 'ro/r.txt']);
    for (const [rel, e] of left.files) expect(e).toEqual(srcBefore.files.get(rel));
    expect(fs.statSync(path.join(c.src, 'locked')).mode & 0o777).toBe(0);
  });
});
