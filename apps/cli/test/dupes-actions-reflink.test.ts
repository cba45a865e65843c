import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileExtents, loopFsUnavailable, mountReflinkFs, nativeAddonOff, needLoopFs, runFiler, type LoopFs } from '@filer/testing';
import { jobIdOf } from './dupes-actions-tree.js';

/**
 * `filer dupes --action reflink --apply` on a real XFS with reflinks (a loop device; root only —
 * elsewhere skipped with the reason, and on CI a failure): the copies share the kept file's
 * extents (filefrag), their bytes, inodes and mtimes unchanged; a copy rewritten between the
 * journal and the act is refused by the kernel's own compare (E_CHANGED) and left alone. Undo
 * gives every copy extents of its own again (filefrag shows none shared), bytes, owner, mode and
 * mtime as before; a copy whose kept file changed since the job is left sharing (E_CHANGED).
 */

const MiB = 1 << 20;
let xfs: LoopFs | undefined;
beforeAll(() => {
  if (!nativeAddonOff && loopFsUnavailable('xfs-reflink') === undefined) xfs = mountReflinkFs();
}, 60_000);
afterAll(() => xfs?.cleanup(), 60_000);

function writeFlushed(p: string, data: Buffer): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  const fd = fs.openSync(p, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

const stateOf = (p: string): { sha: string; ino: bigint; mtimeNs: bigint } => {
  const st = fs.statSync(p, { bigint: true });
  return { sha: createHash('sha256').update(fs.readFileSync(p)).digest('hex'), ino: st.ino, mtimeNs: st.mtimeNs };
};

describe.skipIf(nativeAddonOff)('dupes --action reflink on XFS (FIDEDUPERANGE)', () => {
  it('shares every copy’s extents with the kept file; a copy changed after the journal is E_CHANGED', async (ctx) => {
    needLoopFs(ctx, 'xfs-reflink');
    const dir = fs.mkdtempSync(path.join(xfs!.dir, 'case-'));
    const env = { XDG_CACHE_HOME: path.join(dir, 'state') };
    const data = createHash('sha512').update('seed').digest();
    const body = Buffer.concat(
      Array.from({ length: (4 * MiB) / data.length }, (_, i) =>
        Buffer.concat([data.subarray(0, 60), Buffer.from([i & 255, i >> 8, 0, 0])]),
      ),
    );
    for (const rel of ['a/0-kept', 'a/copy', 'b/copy', 'b/changed']) writeFlushed(path.join(dir, rel), body);
    const before = Object.fromEntries(['a/0-kept', 'a/copy', 'b/copy'].map((rel) => [rel, stateOf(path.join(dir, rel))]));
    const killed = await runFiler(['--no-progress', 'dupes', path.join(dir, 'a'), path.join(dir, 'b'), '--action', 'reflink', '--apply'], {
      env: { ...env, FILER_FAULT: 'after-journal:1' },
    });
    expect(killed.signal).toBe('SIGKILL');
    const id = jobIdOf(killed.stderr);
    // Same size, inode and mtime, other bytes: only the kernel's compare can tell.
    const changed = path.join(dir, 'b/changed');
    const st = fs.statSync(changed);
    const other = Buffer.from(body);
    other[2 * MiB] ^= 1;
    writeFlushed(changed, other);
    fs.utimesSync(changed, st.atime, st.mtime);
    const r = await runFiler(['--no-progress', 'jobs', 'resume', id], { env });
    expect(r.stderr).toContain('2 done, 0 undone, 1 failed');
    expect(r.stderr).toMatch(/b\/changed.*E_CHANGED/);
    for (const rel of ['a/copy', 'b/copy']) {
      expect(stateOf(path.join(dir, rel))).toEqual(before[rel]);
      expect(fileExtents(path.join(dir, rel)).every((e) => e.flags.includes('shared'))).toBe(true);
    }
    expect(fileExtents(changed).some((e) => e.flags.includes('shared'))).toBe(false);
    const undo = await runFiler(['--no-progress', 'jobs', 'undo', id], { env });
    expect(undo.stderr).toContain(`job ${id} undone`);
    for (const rel of ['a/copy', 'b/copy']) {
      expect(fileExtents(path.join(dir, rel)).some((e) => e.flags.includes('shared'))).toBe(false);
      expect(stateOf(path.join(dir, rel))).toEqual({ ...before[rel], ino: expect.any(BigInt) });
    }
  });

  it('undo rewrites each reflinked copy with extents of its own (bytes, owner, mode, mtime kept); not while its kept file changed, nor one with other hard links', async (ctx) => {
    needLoopFs(ctx, 'xfs-reflink');
    const dir = fs.mkdtempSync(path.join(xfs!.dir, 'undo-'));
    const env = { XDG_CACHE_HOME: path.join(dir, 'state') };
    const bodies = ['one', 'two', 'three'].map((seed) =>
      Buffer.concat(Array.from({ length: 64 }, (_, i) => createHash('sha512').update(`${seed}${i}`).digest())),
    );
    const big = (b: Buffer): Buffer => Buffer.concat(Array.from({ length: MiB / b.length }, () => b));
    const files: Record<string, { mode: number; uid: number }> = {
      'a/g0/0-kept': { mode: 0o644, uid: 0 },
      'b/g0/copy': { mode: 0o4751, uid: 1234 },
      'a/g1/0-kept': { mode: 0o600, uid: 0 },
      'b/g1/copy': { mode: 0o640, uid: 0 },
      'a/g2/0-kept': { mode: 0o644, uid: 0 },
      'b/g2/copy': { mode: 0o644, uid: 0 },
    };
    for (const [rel, f] of Object.entries(files)) {
      const p = path.join(dir, rel);
      writeFlushed(p, big(bodies[Number(/g(\d)/.exec(rel)![1])]));
      fs.chownSync(p, f.uid, f.uid);
      fs.chmodSync(p, f.mode);
      fs.utimesSync(p, new Date(2021, 1, 2, 3, 4, 5, 678), new Date(2020, 5, 6, 7, 8, 9, 123));
    }
    const full = (rel: string): { sha: string; ino: bigint; mtimeNs: bigint; mode: number; uid: number; gid: number } => {
      const st = fs.lstatSync(path.join(dir, rel));
      return { ...stateOf(path.join(dir, rel)), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    };
    // g2's copy has another name outside the roots: a fresh inode would split them, so undo leaves it sharing.
    fs.mkdirSync(path.join(dir, 'c'));
    fs.linkSync(path.join(dir, 'b/g2/copy'), path.join(dir, 'c/link'));
    const before = Object.fromEntries(Object.keys(files).map((rel) => [rel, full(rel)]));
    const r = await runFiler(
      ['--no-progress', 'dupes', path.join(dir, 'a'), path.join(dir, 'b'), '--action', 'reflink', '--keep', 'first-root', '--apply'],
      { env },
    );
    expect(r.stderr).toContain('3 done, 0 undone, 0 failed');
    const id = jobIdOf(r.stderr);
    for (const rel of ['b/g0/copy', 'b/g1/copy', 'b/g2/copy'])
      expect(fileExtents(path.join(dir, rel)).every((e) => e.flags.includes('shared'))).toBe(true);
    // The kept file of g1 changed since the job (its mtime): its copy must stay as it is.
    const touched = path.join(dir, 'a/g1/0-kept');
    fs.utimesSync(touched, new Date(), new Date());
    const undo = await runFiler(['--no-progress', 'jobs', 'undo', id], { env });
    expect(undo.code).toBe(1);
    expect(undo.stderr).toContain(
      `E_CHANGED: the kept file ${touched} changed since the job; ${path.join(dir, 'b/g1/copy')} left sharing its extents`,
    );
    const g0 = path.join(dir, 'b/g0/copy');
    expect(fileExtents(g0).some((e) => e.flags.includes('shared'))).toBe(false);
    expect(fileExtents(path.join(dir, 'a/g0/0-kept')).some((e) => e.flags.includes('shared'))).toBe(false);
    expect(full('b/g0/copy')).toEqual({ ...before['b/g0/copy'], ino: expect.any(BigInt) });
    expect(full('b/g0/copy').ino).not.toBe(before['b/g0/copy'].ino);
    expect(full('b/g1/copy')).toEqual(before['b/g1/copy']);
    expect(fileExtents(path.join(dir, 'b/g1/copy')).every((e) => e.flags.includes('shared'))).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'b/g0'))).toEqual(['copy']);
    expect(full('b/g2/copy')).toEqual(before['b/g2/copy']);
    expect(full('c/link').ino).toBe(before['b/g2/copy'].ino);
    expect(fileExtents(path.join(dir, 'b/g2/copy')).every((e) => e.flags.includes('shared'))).toBe(true);
    const shown = await runFiler(['--no-progress', 'jobs', 'show', id], { env });
    expect(shown.stdout).toContain(`has other hard links, which a fresh copy would split from it`);
  });
});
