import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, type ProcessResult } from '@filer/testing';

/**
 * The holes the Trust issue found in plan → journal → apply → resume → undo, each as the user
 * meets it, black-box against the built CLI: journals of absolute, resolved paths and identities;
 * templates and --dest that resolve outside where they belong; sources that change between the
 * plan and the act; files at a target that this job did not put there.
 */

let base: string;
const mounts: string[] = [];
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-batch-trust-'));
});
afterAll(() => {
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
  fs.rmSync(base, { recursive: true, force: true });
});

function caseDir(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(base, 'case-'));
  return { dir, env: { XDG_CACHE_HOME: path.join(dir, '.cache') } };
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** Every file and symlink below `dir` with its content (or link text) and inode: equal maps, untouched trees. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    if (rel.startsWith('.cache')) continue;
    const p = path.join(dir, rel);
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(p)}`;
    else if (st.isFile()) out[rel] = `${fs.readFileSync(p, 'utf8')} #${st.ino}`;
    else out[rel + '/'] = 'dir';
  }
  return out;
}

const filer = (args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<ProcessResult> =>
  runFiler(args, { env, cwd, timeoutMs: 30_000 });

async function onlyJob(env: NodeJS.ProcessEnv): Promise<string> {
  const r = await filer(['jobs', 'list'], env);
  expect(r.code, r.stderr).toBe(0);
  const ids = r.stdout.split('\n').filter((l) => l !== '');
  expect(ids).toHaveLength(1);
  return ids[0].split(' ')[0];
}

interface Shown {
  job: { state: string; reason?: string; format: number };
  actions: { source: string; target: string; state: string; reason?: string; sourceId?: unknown; targetId?: unknown }[];
}

async function show(id: string, env: NodeJS.ProcessEnv): Promise<Shown> {
  const r = await filer(['jobs', 'show', id, '--format', 'ndjson'], env);
  expect(r.code, r.stderr).toBe(0);
  const [first, ...rest] = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { job: first.job as Shown['job'], actions: rest as Shown['actions'] };
}

function planLines(stdout: string): { action: string; kind?: string; source: string; target: string }[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { action: string; kind?: string; source: string; target: string });
}

function mountTmpfs(): string {
  const dir = fs.mkdtempSync(path.join(base, 'mnt-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

describe('journals hold absolute, resolved paths; resume and undo touch only what the job made', () => {
  it('undo of a rename run from another directory puts the file back where it was, and leaves a stranger alone', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'A/r/a.txt'), 'mine');
    // The stranger sits where a journal of relative paths would have sent the undo.
    write(path.join(dir, 'B/r/k_01.txt'), 'stranger');
    const r = await filer(['rename', 'r', '--to', 'k_{counter:2}{ext}', '--apply'], env, path.join(dir, 'A'));
    expect(r.code, r.stderr).toBe(0);
    const id = await onlyJob(env);
    const { actions } = await show(id, env);
    expect(actions.map((a) => [a.source, a.target])).toEqual([[path.join(dir, 'A/r/a.txt'), path.join(dir, 'A/r/k_01.txt')]]);
    expect(actions[0].sourceId).toMatchObject({ size: 4 });
    const strangerBefore = snapshot(path.join(dir, 'B'));

    const undo = await filer(['jobs', 'undo', id], env, path.join(dir, 'B'));
    expect(undo.code, undo.stderr).toBe(0);
    expect(snapshot(path.join(dir, 'B'))).toEqual(strangerBefore);
    expect(fs.readFileSync(path.join(dir, 'A/r/a.txt'), 'utf8')).toBe('mine');
    expect(fs.existsSync(path.join(dir, 'A/r/k_01.txt'))).toBe(false);
  });

  it('undo refuses a file at the recorded target that is not the one the job put there: reported, left in place, exit 1', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'r/a.txt'), 'mine');
    write(path.join(dir, 'r/b.txt'), 'also mine');
    expect((await filer(['rename', path.join(dir, 'r'), '--to', 'k_{name}', '--apply'], env)).code).toBe(0);
    const id = await onlyJob(env);
    // Someone replaces one renamed file with another file of the same name.
    fs.rmSync(path.join(dir, 'r/k_a.txt'));
    write(path.join(dir, 'r/k_a.txt'), 'stranger');
    const undo = await filer(['jobs', 'undo', id], env);
    expect(undo.code).toBe(1);
    expect(undo.stderr).toContain(`${path.join(dir, 'r/a.txt')} → ${path.join(dir, 'r/k_a.txt')}: undo: the file at the target changed`);
    expect(fs.readFileSync(path.join(dir, 'r/k_a.txt'), 'utf8')).toBe('stranger');
    expect(fs.existsSync(path.join(dir, 'r/a.txt'))).toBe(false);
    // The other file went back.
    expect(fs.readFileSync(path.join(dir, 'r/b.txt'), 'utf8')).toBe('also mine');
  });

  it('refuses to resume or undo a journal an earlier filer wrote (relative paths, no identities), saying why', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'r/k_01.txt'), 'renamed earlier');
    write(path.join(dir, 'r/x.txt'), 'pending earlier');
    // The state database as filer wrote it before journal format 2 (schema version 3).
    const dbFile = path.join(dir, '.cache/filer/filer.db');
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    const db = new Database(dbFile);
    db.exec(`CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,
               updated_at INTEGER NOT NULL, options TEXT NOT NULL, created_dirs TEXT NOT NULL DEFAULT '[]');
             CREATE TABLE job_actions (job_id TEXT NOT NULL REFERENCES jobs (id), seq INTEGER NOT NULL, source TEXT NOT NULL,
               target TEXT NOT NULL, size INTEGER NOT NULL, overwrite INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT,
               target_ino INTEGER, target_mtime REAL, PRIMARY KEY (job_id, seq)) WITHOUT ROWID;
             CREATE TABLE dir_hashes (algo TEXT NOT NULL, dir TEXT NOT NULL, entries TEXT NOT NULL, n INTEGER NOT NULL,
               last_seen INTEGER NOT NULL, PRIMARY KEY (algo, dir));
             PRAGMA user_version = 3;`);
    db.prepare(`INSERT INTO jobs VALUES ('old-1', 'rename', 'failed', 1, 1, '{"onConflict":"fail","verify":false}', '[]')`).run();
    db.prepare(`INSERT INTO job_actions VALUES ('old-1', 1, 'r/a.txt', 'r/k_01.txt', 4, 0, 'done', NULL, 1, 1)`).run();
    db.prepare(`INSERT INTO job_actions VALUES ('old-1', 2, 'r/x.txt', 'r/k_02.txt', 4, 0, 'pending', NULL, NULL, NULL)`).run();
    db.close();
    const before = snapshot(dir);
    for (const verb of ['undo', 'resume']) {
      const r = await filer(['jobs', verb, 'old-1'], env, dir);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('journaled by an earlier filer');
      expect(r.stderr).toContain('paths relative to the directory it ran in');
      expect(r.stderr).toContain('[E_JOURNAL_FORMAT]');
    }
    expect(snapshot(dir)).toEqual(before);
    expect((await show('old-1', env)).job.format).toBe(1);
  });
});

describe('targets stay inside their root', () => {
  it('an absolute template outside the root is a conflict (exit 3); nothing changes anywhere', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'r/c.txt'), 'c');
    const outside = path.join(dir, 'x');
    const before = snapshot(dir);
    const r = await filer(['rename', path.join(dir, 'r'), '--to', `${outside}/{name}`, '--apply', '--format', 'ndjson'], env);
    expect(r.code, r.stderr).toBe(3);
    expect(planLines(r.stdout)).toEqual([
      expect.objectContaining({
        action: 'conflict',
        kind: 'outside-root',
        source: path.join(dir, 'r/c.txt'),
        target: path.join(outside, 'c.txt'),
      }),
    ]);
    expect(snapshot(dir)).toEqual(before);
    expect(fs.existsSync(outside)).toBe(false);
  });

  it('an absolute template inside the root is planned and applied', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'r/c.txt'), 'c');
    const r = await filer(['rename', path.join(dir, 'r'), '--to', `${path.join(dir, 'r/sorted')}/{name}`, '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'r/sorted/c.txt'), 'utf8')).toBe('c');
  });

  it('a template segment that is a symlink leading out of the root is a conflict (exit 3)', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'r/c.txt'), 'c');
    fs.mkdirSync(path.join(dir, 'outside'));
    fs.symlinkSync(path.join(dir, 'outside'), path.join(dir, 'r/out'));
    const before = snapshot(dir);
    const r = await filer(['rename', path.join(dir, 'r'), '--to', 'out/{name}', '--apply', '--format', 'ndjson'], env);
    expect(r.code, r.stderr).toBe(3);
    expect(planLines(r.stdout)).toEqual([
      expect.objectContaining({ action: 'conflict', kind: 'outside-root', target: path.join(dir, 'outside/c.txt') }),
    ]);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a copy whose --dest holds a symlink leading out is a conflict for the files below it', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'src/sub/a.txt'), 'a');
    write(path.join(dir, 'src/b.txt'), 'b');
    fs.mkdirSync(path.join(dir, 'dest'));
    fs.mkdirSync(path.join(dir, 'elsewhere'));
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'dest/sub'));
    const r = await filer(['copy', path.join(dir, 'src'), '--dest', path.join(dir, 'dest'), '--apply', '--format', 'ndjson'], env);
    expect(r.code, r.stderr).toBe(3);
    expect(planLines(r.stdout).filter((l) => l.action === 'conflict')).toEqual([
      expect.objectContaining({ kind: 'outside-root', target: path.join(dir, 'elsewhere/a.txt') }),
    ]);
    expect(fs.readdirSync(path.join(dir, 'elsewhere'))).toEqual([]);
  });

  it('--dest that resolves into a root (a symlink to it, or below one) is refused before anything runs (exit 2)', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'src/a.txt'), 'a');
    fs.symlinkSync(path.join(dir, 'src'), path.join(dir, 'link-to-src'));
    for (const dest of [path.join(dir, 'link-to-src'), path.join(dir, 'link-to-src/new/deeper')]) {
      const before = snapshot(dir);
      const r = await filer(['copy', path.join(dir, 'src'), '--dest', dest, '--apply'], env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--dest: --dest ${dest} lies inside the root ${path.join(dir, 'src')} (it resolves to`);
      expect(snapshot(dir)).toEqual(before);
    }
  });
});

describe('a source that changes between the plan and the act', () => {
  it('move across devices: a source edited after the journal is not moved (E_CHANGED); the rest are', async () => {
    const { dir, env } = caseDir();
    const dest = path.join(mountTmpfs(), 'dest');
    write(path.join(dir, 'src/a.txt'), 'a');
    write(path.join(dir, 'src/b.txt'), 'b');
    const killed = await filer(['move', path.join(dir, 'src'), '--dest', dest, '--apply'], { ...env, FILER_FAULT: 'after-journal:1' });
    expect(killed.signal).toBe('SIGKILL');
    fs.appendFileSync(path.join(dir, 'src/a.txt'), ' and more');
    const id = await onlyJob(env);
    const r = await filer(['jobs', 'resume', id], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(dir, 'src/a.txt')} → ${path.join(dest, 'a.txt')}: E_CHANGED`);
    expect(fs.readFileSync(path.join(dir, 'src/a.txt'), 'utf8')).toBe('a and more');
    expect(fs.existsSync(path.join(dest, 'a.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(dest, 'b.txt'), 'utf8')).toBe('b');
    expect(fs.existsSync(path.join(dir, 'src/b.txt'))).toBe(false);
  });

  it('move across devices: a source written to after its copy was placed is kept, and so is the copy; undo names the copy and leaves it', async () => {
    const { dir, env } = caseDir();
    const dest = path.join(mountTmpfs(), 'dest');
    write(path.join(dir, 'src/a.txt'), 'a');
    // Killed with the copy in place and journaled as this job's, the source not yet removed.
    const killed = await filer(['move', path.join(dir, 'src'), '--dest', dest, '--apply'], { ...env, FILER_FAULT: 'after-commit:1' });
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('a');
    fs.appendFileSync(path.join(dir, 'src/a.txt'), ' and more');
    const id = await onlyJob(env);
    const r = await filer(['jobs', 'resume', id], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_CHANGED: the source changed after it was copied; both kept (the copy is the version planned)');
    // The rule: a changed source fails the action and both copies are kept (if the change
    // was a truncation, the copy is the only whole version left).
    expect(fs.readFileSync(path.join(dir, 'src/a.txt'), 'utf8')).toBe('a and more');
    expect(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('a');
    // Undo cannot put the planned version back under the changed source: it names the copy and leaves both.
    const undo = await filer(['jobs', 'undo', id], env);
    expect(undo.code).toBe(1);
    expect(undo.stderr).toContain(
      `${path.join(dest, 'a.txt')}: undo: the copy at the target is kept (its source changed after it was copied)`,
    );
    expect(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('a');
    expect(fs.readFileSync(path.join(dir, 'src/a.txt'), 'utf8')).toBe('a and more');
  });

  it('copy and rename: a source replaced after the journal is not touched (E_CHANGED)', async () => {
    for (const kind of ['copy', 'rename'] as const) {
      const { dir, env } = caseDir();
      write(path.join(dir, 'src/a.txt'), 'a');
      const args =
        kind === 'copy'
          ? ['copy', path.join(dir, 'src'), '--dest', path.join(dir, 'dest')]
          : ['rename', path.join(dir, 'src'), '--to', 'k_{name}'];
      const killed = await filer([...args, '--apply'], { ...env, FILER_FAULT: 'after-journal:1' });
      expect(killed.signal).toBe('SIGKILL');
      // Same size, same name: only the identity tells it is another file.
      fs.rmSync(path.join(dir, 'src/a.txt'));
      write(path.join(dir, 'src/a.txt'), 'z');
      const r = await filer(['jobs', 'resume', await onlyJob(env)], env);
      expect(r.code, `${kind}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain('E_CHANGED');
      expect(fs.readFileSync(path.join(dir, 'src/a.txt'), 'utf8')).toBe('z');
      expect(fs.existsSync(path.join(dir, kind === 'copy' ? 'dest/a.txt' : 'src/k_a.txt'))).toBe(false);
    }
  });
});

describe('links', () => {
  it('copy -L copies what a source link leads to; the identity checked is that file’s', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'src/real.txt'), 'real');
    write(path.join(dir, 'elsewhere/linked.txt'), 'linked content');
    fs.symlinkSync(path.join(dir, 'elsewhere/linked.txt'), path.join(dir, 'src/link.txt'));
    const r = await filer(['copy', '-L', path.join(dir, 'src'), '--dest', path.join(dir, 'dest'), '--apply'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(path.join(dir, 'dest'))).toEqual({
      'link.txt': `linked content #${fs.statSync(path.join(dir, 'dest/link.txt')).ino}`,
      'real.txt': `real #${fs.statSync(path.join(dir, 'dest/real.txt')).ino}`,
    });
    expect(fs.lstatSync(path.join(dir, 'dest/link.txt')).isFile()).toBe(true);
  });
});

describe('long names', () => {
  it('a file whose name is near NAME_MAX is copied and moved across devices (its temporary name is a digest)', async () => {
    const { dir, env } = caseDir();
    const name = `${'n'.repeat(250)}.txt`;
    write(path.join(dir, 'src', name), 'long');
    const dest = path.join(mountTmpfs(), 'dest');
    const copy = await filer(['copy', path.join(dir, 'src'), '--dest', path.join(dir, 'copy'), '--apply'], env);
    expect(copy.code, copy.stderr).toBe(0);
    const move = await filer(['move', path.join(dir, 'src'), '--dest', dest, '--apply'], env);
    expect(move.code, move.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'copy', name), 'utf8')).toBe('long');
    expect(fs.readdirSync(dest)).toEqual([name]);
    expect(fs.readdirSync(path.join(dir, 'src'))).toEqual([]);
  });
});

describe('undo leaves a changed target alone', () => {
  it('undo of a move reports a destination file edited since the move as a conflict and leaves it in place', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'src/a.txt'), 'a');
    write(path.join(dir, 'src/b.txt'), 'b');
    expect((await filer(['move', path.join(dir, 'src'), '--dest', path.join(dir, 'dest'), '--apply'], env)).code).toBe(0);
    fs.appendFileSync(path.join(dir, 'dest/a.txt'), ' edited');
    const undo = await filer(['jobs', 'undo', await onlyJob(env)], env);
    expect(undo.code).toBe(1);
    expect(undo.stderr).toContain('undo: the file at the target changed since it was moved there');
    expect(fs.readFileSync(path.join(dir, 'dest/a.txt'), 'utf8')).toBe('a edited');
    expect(fs.existsSync(path.join(dir, 'src/a.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'src/b.txt'), 'utf8')).toBe('b');
  });
});

describe('clear reasons', () => {
  it('the journal keeps why a job stopped (not enough free space)', async () => {
    const { dir, env } = caseDir();
    const mnt = fs.mkdtempSync(path.join(base, 'mnt-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    mounts.push(mnt);
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src/big.bin'), Buffer.alloc(2 << 20, 1));
    const r = await filer(['copy', path.join(dir, 'src'), '--dest', path.join(mnt, 'dest'), '--apply'], env);
    expect(r.code).toBe(3);
    const { job } = await show(await onlyJob(env), env);
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/^not enough free space: 2097152 bytes to copy, \d+ available at /);
  });

  it('--on-conflict overwrite onto a dangling symlink fails that file with a clear message and writes nothing through the link', async () => {
    const { dir, env } = caseDir();
    write(path.join(dir, 'src/a.txt'), 'a');
    write(path.join(dir, 'src/b.txt'), 'b');
    fs.mkdirSync(path.join(dir, 'dest'));
    fs.mkdirSync(path.join(dir, 'outside'));
    fs.symlinkSync(path.join(dir, 'outside/new.txt'), path.join(dir, 'dest/a.txt'));
    const r = await filer(['copy', path.join(dir, 'src'), '--dest', path.join(dir, 'dest'), '--on-conflict', 'overwrite', '--apply'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${path.join(dir, 'dest/a.txt')}: the target is a symbolic link: filer never writes through or replaces a link`,
    );
    expect(r.stderr).not.toContain('ENOENT');
    expect(fs.readlinkSync(path.join(dir, 'dest/a.txt'))).toBe(path.join(dir, 'outside/new.txt'));
    expect(fs.readdirSync(path.join(dir, 'outside'))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'dest/b.txt'), 'utf8')).toBe('b');
  });
});
