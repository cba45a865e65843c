import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inoOf, jobIdOf, newCase, snapshot, type Case } from './dupes-actions-tree.js';

/**
 * `filer dupes --action …` run as a process on real temp trees: every action planned (nothing
 * changes) and applied (inodes, links, quarantine checked), then undone exactly (bytes, mode, mtime,
 * inode) and purged.
 */

let c: Case;
afterEach(() => c?.cleanup());

/** a/1 (kept: first in path order), a/sub/2 and b/3 its copies, b/4 unique. */
function threeCopies(): Case {
  c = newCase();
  c.write({ 'a/1': 'hello dupes\n', 'a/sub/2': 'hello dupes\n', 'b/3': 'hello dupes\n', 'b/4': 'unique\n' });
  return c;
}

const roots = (): string[] => [c.p('a'), c.p('b')];

describe('filer dupes --action: the plan', () => {
  it('prints the kept file, each copy’s action and bytes, and the summary, changing nothing on disk', async () => {
    threeCopies();
    const before = snapshot(c.dir);
    const r = await c.filer(['dupes', ...roots(), '--action', 'hardlink']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`keep ${c.p('a/1')}`);
    expect(r.stdout).toContain(`  hardlink ${c.p('a/sub/2')}  frees 12 B`);
    expect(r.stdout).toContain(`  hardlink ${c.p('b/3')}  frees 12 B`);
    expect(r.stdout).toMatch(/plan: 2 copies in 1 groups to hardlink, 24 B reclaimed, 0 skipped .*nothing changed \(add --apply/);
    expect(snapshot(c.dir)).toEqual(before);
    expect(fs.existsSync(path.join(c.dir, '.state', 'filer', 'filer.db')) ? await c.filer(['jobs', 'list']) : { stdout: '' }).toMatchObject(
      { stdout: '' },
    );
  });

  it('ndjson: a line per group and the summary; json: one document', async () => {
    threeCopies();
    const nd = await c.filer(['dupes', ...roots(), '--action', 'remove', '--format', 'ndjson']);
    const lines = nd.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ kept: c.p('a/1'), size: 12 });
    expect((lines[0].copies as { action: string; target: string }[]).map((x) => [x.action, x.target])).toEqual([
      ['remove', c.p('a/.filer-quarantine/<job>/sub/2')],
      ['remove', c.p('b/.filer-quarantine/<job>/3')],
    ]);
    expect(lines.at(-1)).toEqual({ summary: { groups: 1, files: 2, bytes: 24 } });
    const js = JSON.parse((await c.filer(['dupes', ...roots(), '--action', 'symlink', '--format', 'json'])).stdout) as {
      groups: { copies: { link: string }[] }[];
      summary: unknown;
    };
    expect(js.groups[0].copies.map((x) => x.link)).toEqual(['../1', '../a/1']);
    expect(js.summary).toEqual({ groups: 1, files: 2, bytes: 24 });
  });
});

describe('filer dupes --action … --apply, then undo', () => {
  it('hardlink: every copy becomes a name of the kept inode; undo gives back each original inode', async () => {
    threeCopies();
    const before = snapshot(c.dir);
    const r = await c.filer(['dupes', ...roots(), '--action', 'hardlink', '--apply']);
    expect(r.code).toBe(0);
    const id = jobIdOf(r.stderr);
    expect(r.stderr).toContain(`job ${id} completed: 2 done`);
    expect(inoOf(c.p('a/sub/2'))).toBe(inoOf(c.p('a/1')));
    expect(inoOf(c.p('b/3'))).toBe(inoOf(c.p('a/1')));
    expect(inoOf(c.p(`b/.filer-quarantine/${id}/3`))).toBe(before['b/3'].ino);
    expect(fs.readFileSync(c.p('b/3'), 'utf8')).toBe('hello dupes\n');
    const show = await c.filer(['jobs', 'show', id]);
    expect(show.stdout).toContain(`done     hardlink ${c.p('b/3')} ⇒ ${c.p('a/1')}`);
    const u = await c.filer(['jobs', 'undo', id]);
    expect(u.stderr).toContain(`job ${id} undone: 0 done, 2 undone`);
    expect(snapshot(c.dir)).toEqual(before);
    expect(fs.existsSync(c.p('b/.filer-quarantine'))).toBe(false);
  });

  it('symlink: a relative link to the kept file; undo restores the copy', async () => {
    threeCopies();
    const before = snapshot(c.dir);
    const r = await c.filer(['dupes', ...roots(), '--action', 'symlink', '--apply']);
    expect(r.code).toBe(0);
    expect(fs.readlinkSync(c.p('a/sub/2'))).toBe('../1');
    expect(fs.readlinkSync(c.p('b/3'))).toBe('../a/1');
    expect(fs.readFileSync(c.p('b/3'), 'utf8')).toBe('hello dupes\n');
    await c.filer(['jobs', 'undo', jobIdOf(r.stderr)]);
    expect(snapshot(c.dir)).toEqual(before);
  });

  it('remove: copies go to the quarantine at the top of their root; purge deletes them and says what', async () => {
    threeCopies();
    const before = snapshot(c.dir);
    const r = await c.filer(['dupes', ...roots(), '--action', 'remove', '--apply']);
    const id = jobIdOf(r.stderr);
    expect(fs.existsSync(c.p('b/3'))).toBe(false);
    expect(inoOf(c.p(`a/.filer-quarantine/${id}/sub/2`))).toBe(before['a/sub/2'].ino);
    expect(inoOf(c.p(`b/.filer-quarantine/${id}/3`))).toBe(before['b/3'].ino);
    const p = await c.filer(['jobs', 'purge', id]);
    expect(p.code).toBe(0);
    expect(p.stdout.trim().split('\n').sort()).toEqual([
      `removed ${c.p(`a/.filer-quarantine/${id}/sub/2`)}  (12 B)`,
      `removed ${c.p(`b/.filer-quarantine/${id}/3`)}  (12 B)`,
    ]);
    expect(p.stderr).toContain('2 quarantined copies deleted (24 B)');
    expect(fs.existsSync(c.p('a/.filer-quarantine'))).toBe(false);
    const u = await c.filer(['jobs', 'undo', id]);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toContain('quarantine purged');
  });

  it('remove, undone: the copies are back; purge then refuses', async () => {
    threeCopies();
    const before = snapshot(c.dir);
    const id = jobIdOf((await c.filer(['dupes', ...roots(), '--action', 'remove', '--apply'])).stderr);
    expect((await c.filer(['jobs', 'undo', id])).code).toBe(0);
    expect(snapshot(c.dir)).toEqual(before);
    const p = await c.filer(['jobs', 'purge', id]);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toMatch(/is undone: only an applied job's quarantine is purged \[E_CONFLICT\]/);
  });

  it('undo leaves a path something else took meanwhile (identity-checked), and says so', async () => {
    threeCopies();
    const id = jobIdOf((await c.filer(['dupes', ...roots(), '--action', 'remove', '--apply'])).stderr);
    fs.writeFileSync(c.p('b/3'), 'a new file\n');
    const u = await c.filer(['jobs', 'undo', id]);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toContain(`undo: something else now stands at ${c.p('b/3')}; not overwritten`);
    expect(fs.readFileSync(c.p('b/3'), 'utf8')).toBe('a new file\n');
    expect(fs.existsSync(c.p(`b/.filer-quarantine/${id}/3`))).toBe(true);
  });

  it('move-to DIR: copies move under DIR keeping their path below their root; undo moves them back', async () => {
    threeCopies();
    const before = snapshot(c.dir);
    const r = await c.filer(['dupes', ...roots(), '--action', 'move-to', '--move-to', c.p('moved'), '--apply']);
    expect(r.code).toBe(0);
    expect(inoOf(c.p('moved/sub/2'))).toBe(before['a/sub/2'].ino);
    expect(inoOf(c.p('moved/3'))).toBe(before['b/3'].ino);
    expect(fs.existsSync(c.p('a/sub/2'))).toBe(false);
    await c.filer(['jobs', 'undo', jobIdOf(r.stderr)]);
    expect(snapshot(c.dir)).toEqual(before);
  });

  it('reflink on a file system without reflinks (ext4 here): every copy skipped with E_UNSUPPORTED, nothing changed', async () => {
    threeCopies();
    const before = snapshot(c.dir);
    const r = await c.filer(['dupes', ...roots(), '--action', 'reflink', '--apply']);
    expect(r.stderr).toContain('0 done, 0 undone, 0 failed, 2 skipped');
    const show = await c.filer(['jobs', 'show', jobIdOf(r.stderr)]);
    expect(show.stdout).toMatch(/skipped {2}reflink .*E_UNSUPPORTED/);
    expect(snapshot(c.dir)).toEqual(before);
  });
});
