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
 * journal and the act is refused by the kernel's own compare (E_CHANGED) and left alone.
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
    // Nothing to give back: the copies kept their inode, bytes and mtime.
    expect((await runFiler(['--no-progress', 'jobs', 'undo', id], { env })).stderr).toContain(`job ${id} undone`);
  });
});
