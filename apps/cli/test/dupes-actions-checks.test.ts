import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { inoOf, jobIdOf, newCase, snapshot, type Case } from './dupes-actions-tree.js';

/**
 * `filer dupes --action` as a process: the checks before every action (a copy changed between
 * plan and apply is skipped with E_CHANGED), reference roots, --isolate, keep rules, owner and mode,
 * walks that skip the quarantine, and input errors that change nothing.
 */

let c: Case;
afterEach(() => c?.cleanup());

const CONTENT = 'the same bytes\n';

describe('before every action: the kept file and the copy are checked again', () => {
  /** Journals a hardlink job of a/1 (kept), a/2 and b/3, killed before it acts (FILER_FAULT). */
  async function journaledOnly(): Promise<string> {
    c = newCase();
    c.write({ 'a/1': CONTENT, 'a/2': CONTENT, 'b/3': CONTENT });
    const r = await c.filer(['dupes', c.p('a'), c.p('b'), '--action', 'hardlink', '--apply'], { FILER_FAULT: 'after-journal:1' });
    expect(r.signal).toBe('SIGKILL');
    return jobIdOf(r.stderr);
  }

  it('a copy whose bytes changed (same size, inode and mtime) is skipped with E_CHANGED; the others go on', async () => {
    const id = await journaledOnly();
    const st = fs.statSync(c.p('b/3'));
    fs.writeFileSync(c.p('b/3'), CONTENT.toUpperCase());
    fs.utimesSync(c.p('b/3'), st.atime, st.mtime);
    const before = snapshot(c.p('b'));
    const r = await c.filer(['jobs', 'resume', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no longer holds the same bytes as ${c.p('a/1')}; nothing done`);
    expect(r.stderr).toContain('1 done, 0 undone, 1 failed');
    expect(snapshot(c.p('b'))).toEqual(before);
    expect(inoOf(c.p('a/2'))).toBe(inoOf(c.p('a/1')));
    expect(fs.existsSync(c.p(`b/.filer-quarantine/${id}/3`))).toBe(false);
  });

  it('a copy written to since the plan (mtime) and a kept file replaced are E_CHANGED', async () => {
    const id = await journaledOnly();
    fs.appendFileSync(c.p('b/3'), '');
    fs.utimesSync(c.p('b/3'), new Date(), new Date());
    fs.copyFileSync(c.p('a/1'), c.p('a/1.new'));
    fs.renameSync(c.p('a/1.new'), c.p('a/1'));
    const before = snapshot(c.dir);
    const r = await c.filer(['jobs', 'resume', id]);
    expect(r.stderr).toContain(`E_CHANGED: the kept file ${c.p('a/1')} changed since it was planned`);
    expect(r.stderr).toContain('0 done, 0 undone, 2 failed');
    expect(snapshot(c.dir)).toEqual(before);
  });
});

describe('which copies are acted on', () => {
  it('--reference: files under a reference root are never touched, and its file is the one kept', async () => {
    c = newCase();
    c.write({ 'a/x': CONTENT, 'b/x': CONTENT, 'c/x': CONTENT, 'b/y': 'ref only\n', 'b/z': 'ref only\n' });
    const ref = snapshot(c.p('b'));
    const r = await c.filer(['dupes', c.p('a'), c.p('b'), c.p('c'), '--reference', c.p('b'), '--action', 'hardlink', '--apply']);
    expect(r.stdout).toContain(`keep ${c.p('b/x')}`);
    expect(r.stdout).toContain('plan: 2 copies in 1 groups');
    expect(inoOf(c.p('a/x'))).toBe(ref.x.ino);
    expect(inoOf(c.p('c/x'))).toBe(ref.x.ino);
    expect(snapshot(c.p('b'))).toEqual(ref);
  });

  it('--isolate: duplicates inside one root do not count', async () => {
    c = newCase();
    c.write({ 'a/1': CONTENT, 'a/2': CONTENT, 'a/5': 'five\n', 'b/5': 'five\n' });
    const r = await c.filer(['dupes', c.p('a'), c.p('b'), '--isolate', '--action', 'remove']);
    expect(r.stdout).toContain(`  remove   ${c.p('b/5')}`);
    expect(r.stdout).not.toContain(c.p('a/2'));
    expect(r.stdout).toContain('plan: 1 copies in 1 groups');
  });

  it('keep rules: newest, first-root (the order roots were given), path:GLOB, and ties passed on', async () => {
    c = newCase();
    c.write({ 'a/1': CONTENT, 'b/keep/2': CONTENT, 'b/3': CONTENT });
    fs.utimesSync(c.p('b/3'), new Date(2024, 0, 1), new Date(2024, 0, 1));
    const kept = async (...args: string[]): Promise<string> =>
      /^keep (\S+)/m.exec((await c.filer(['dupes', ...args, '--action', 'hardlink'])).stdout)![1];
    expect(await kept(c.p('a'), c.p('b'))).toBe(c.p('a/1'));
    expect(await kept(c.p('a'), c.p('b'), '--keep', 'newest')).toBe(c.p('b/3'));
    expect(await kept(c.p('b'), c.p('a'), '--keep', 'first-root')).toBe(c.p('b/3'));
    expect(await kept(c.p('a'), c.p('b'), '--keep', 'path:keep/*')).toBe(c.p('b/keep/2'));
    expect(await kept(c.p('a'), c.p('b'), '--keep', 'path:nothing', '--keep', 'longest-path')).toBe(c.p('b/keep/2'));
  });

  it('hardlink: copies of another mode are skipped (E_PERMS_DIFFER) unless --ignore-perms', async () => {
    c = newCase();
    c.write({ 'a/1': CONTENT });
    c.write({ 'b/2': CONTENT }, 0o600);
    const before = snapshot(c.dir);
    const r = await c.filer(['dupes', c.p('a'), c.p('b'), '--action', 'hardlink', '--apply']);
    expect(r.stdout).toContain(`skip ${c.p('b/2')}: E_PERMS_DIFFER`);
    expect(snapshot(c.dir)).toEqual(before);
    await c.filer(['dupes', c.p('a'), c.p('b'), '--action', 'hardlink', '--ignore-perms', '--apply']);
    expect(inoOf(c.p('b/2'))).toBe(inoOf(c.p('a/1')));
  });
});

describe('every walk skips .filer-quarantine', () => {
  for (const native of ['1', '0']) {
    it(`find, dupes and copy never see a job's quarantine (FILER_NATIVE_SCAN=${native}, --hidden)`, async () => {
      c = newCase();
      c.write({ 'a/1': CONTENT, 'a/2': CONTENT, 'a/.dot': 'hidden\n' });
      await c.filer(['dupes', c.p('a'), '--action', 'remove', '--apply']);
      expect(fs.readdirSync(c.p('a/.filer-quarantine'))).toHaveLength(1);
      const env = { FILER_NATIVE_SCAN: native };
      const found = await c.filer(['find', c.p('a'), '--hidden'], env);
      expect(found.stdout.trim().split('\n').sort()).toEqual([c.p('a/.dot'), c.p('a/1')]);
      const dupes = await c.filer(['dupes', c.p('a'), '--hidden', '--format', 'ndjson'], env);
      expect(dupes.stdout).toBe('');
      const copy = await c.filer(['copy', c.p('a'), '--dest', c.p('out'), '--hidden', '--format', 'ndjson'], env);
      expect(copy.stdout).not.toContain('.filer-quarantine');
      expect(copy.stdout.trim().split('\n')).toHaveLength(2);
    });
  }
});

describe('bad input: a clear error, nothing changed, no job', () => {
  const cases: [string, (c: Case) => string[], RegExp][] = [
    [
      'an unknown action',
      () => ['--action', 'shred'],
      /unknown --action 'shred': expected one of hardlink, symlink, remove, move-to, reflink/,
    ],
    ['move-to without --move-to', () => ['--action', 'move-to', '--apply'], /--action move-to needs --move-to DIR/],
    [
      '--move-to with another action',
      (c) => ['--action', 'remove', '--move-to', c.p('m')],
      /--move-to is for --action move-to, not remove/,
    ],
    [
      'a reference that is not a root',
      (c) => ['--action', 'remove', '--reference', c.p('b')],
      /--reference .* is not one of the roots given/,
    ],
    ['a reference that does not exist', (c) => ['--action', 'remove', '--reference', c.p('nope')], /--reference .*nope: no such directory/],
    ['--keep without --action', () => ['--keep', 'oldest', '--apply'], /--keep acts on duplicates: give --action too/],
    ['an unknown keep rule', () => ['--action', 'remove', '--keep', 'biggest'], /invalid --keep rule 'biggest'/],
    ['csv for a plan', () => ['--action', 'remove', '--format', 'csv'], /a dedupe plan prints as text, ndjson or json/],
  ];
  for (const [what, args, message] of cases)
    it(what, async () => {
      c = newCase();
      c.write({ 'a/1': CONTENT, 'a/2': CONTENT, 'b/3': 'other\n' });
      const before = snapshot(c.dir);
      const r = await c.filer(['dupes', c.p('a'), ...args(c), '--apply']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(snapshot(c.dir)).toEqual(before);
      expect((await c.filer(['jobs', 'list'])).stdout).toBe('');
    });
});
