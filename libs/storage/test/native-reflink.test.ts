import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileExtents,
  loopFsUnavailable,
  mountLoopFs,
  mountReflinkFs,
  nativeAddonOff,
  needLoopFs,
  noiseBytes,
  type LoopFs,
} from '@filer/testing';
import { reflinkDedupe, reflinkDedupeWith } from '../src/local/reflink-dedupe.js';

// reflinkDedupe (the addon's dedupeRange: FIDEDUPERANGE) on file systems of the test's own: an XFS
// made with reflink=1 and an ext4, each on a loop device over a sparse image (root only; on CI a
// machine that cannot mount them fails these tests, elsewhere they are skipped and listed).

const MiB = 1 << 20;
const sha256 = (p: string): string => createHash('sha256').update(fs.readFileSync(p)).digest('hex');

/** Writes `data` to `p` and flushes it, so that its blocks are allocated (not delayed) before FIEMAP reads them. */
function writeFlushed(p: string, data: Buffer | string): void {
  fs.writeFileSync(p, data);
  const fd = fs.openSync(p, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

/** What must not change when nothing is done to a file: its bytes, inode and mtime. */
function stateOf(p: string): { sha: string; ino: bigint; mtimeNs: bigint } {
  const st = fs.statSync(p, { bigint: true });
  return { sha: sha256(p), ino: st.ino, mtimeNs: st.mtimeNs };
}

const freeBytes = (dir: string): number => {
  const s = fs.statfsSync(dir);
  return s.bfree * s.bsize;
};

describe('reflinkDedupe without the native addon', () => {
  it('is E_UNSUPPORTED, saying that reflink needs the addon', async () => {
    const why = nativeAddonOff ? 'disabled here (FILER_FS_SCAN_ADDON=off)' : 'not built here';
    await expect(reflinkDedupeWith(null, '/x/kept', '/x/copy')).rejects.toMatchObject({
      code: 'E_UNSUPPORTED',
      path: '/x/copy',
      message: `/x/copy: reflink needs the native addon (@filer/fs-scan), which is ${why}; nothing done`,
    });
    // With the addon off in this process (the portable leg), the exported function says so too.
    if (nativeAddonOff) await expect(reflinkDedupe('/x/kept', '/x/copy')).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
  });
});

describe.skipIf(nativeAddonOff)('reflinkDedupe on XFS with reflinks and on ext4 (FIDEDUPERANGE)', () => {
  let xfs: LoopFs | undefined;
  let ext4: LoopFs | undefined;
  let n = 0;
  beforeAll(() => {
    if (loopFsUnavailable('xfs-reflink') === undefined) xfs = mountReflinkFs();
    if (loopFsUnavailable('ext4') === undefined) ext4 = mountLoopFs('ext4');
  }, 60_000);
  afterAll(() => {
    xfs?.cleanup();
    ext4?.cleanup();
  }, 60_000);

  /** A fresh directory for one test on the XFS (the test fails or is skipped, with the reason, where there is none). */
  function xfsDir(ctx: { skip(note?: string): void }): string {
    needLoopFs(ctx, 'xfs-reflink');
    return fs.mkdtempSync(path.join(xfs!.dir, `t${n++}-`));
  }

  it('two equal 40 MiB files: every byte shared, as FIEMAP and the free space show; bytes, inodes and mtimes unchanged', async (ctx) => {
    const dir = xfsDir(ctx);
    const data = noiseBytes(40 * MiB, 1); // three ioctls: 16 + 16 + 8 MiB
    const [kept, copy] = [path.join(dir, 'kept'), path.join(dir, 'copy')];
    writeFlushed(kept, data);
    writeFlushed(copy, data);
    const before = [stateOf(kept), stateOf(copy)];
    const physical = (p: string): number[] => fileExtents(p).map((e) => e.physical);
    expect(physical(copy)).not.toEqual(physical(kept)); // two copies of the bytes on the disk…
    const free = freeBytes(dir);

    await expect(reflinkDedupe(kept, copy)).resolves.toEqual({ deduped: 40 * MiB });

    // …and now one: the same extents, flagged shared, and the copy's blocks freed.
    const [ke, ce] = [fileExtents(kept), fileExtents(copy)];
    expect(ce.map((e) => [e.logical, e.physical, e.length])).toEqual(ke.map((e) => [e.logical, e.physical, e.length]));
    expect(ke.reduce((s, e) => s + e.length, 0) * fs.statfsSync(dir).bsize).toBe(40 * MiB);
    expect(ce.every((e) => e.flags.includes('shared'))).toBe(true);
    expect(freeBytes(dir) - free).toBeGreaterThanOrEqual(39 * MiB);
    expect([stateOf(kept), stateOf(copy)]).toEqual(before);
    expect(fs.readFileSync(copy).equals(data) && fs.readFileSync(kept).equals(data)).toBe(true);
  });

  it('files that differ in their last byte: E_CHANGED, and neither file changed', async (ctx) => {
    const dir = xfsDir(ctx);
    const data = noiseBytes(40 * MiB, 2);
    const [kept, copy] = [path.join(dir, 'kept'), path.join(dir, 'copy')];
    writeFlushed(kept, data);
    data[data.length - 1] ^= 0xff;
    writeFlushed(copy, data);
    const before = [stateOf(kept), stateOf(copy)];
    await expect(reflinkDedupe(kept, copy)).rejects.toMatchObject({
      code: 'E_CHANGED',
      path: copy,
      message: `${copy} and ${kept} differ (in the bytes from ${32 * MiB}): not duplicates any more; neither changed (the ${32 * MiB} bytes before that, equal in both, now share extents)`,
    });
    expect([stateOf(kept), stateOf(copy)]).toEqual(before);
  });

  it('files that differ in their first byte: E_CHANGED, nothing shared', async (ctx) => {
    const dir = xfsDir(ctx);
    const data = noiseBytes(MiB, 3);
    const [kept, copy] = [path.join(dir, 'kept'), path.join(dir, 'copy')];
    writeFlushed(kept, data);
    data[0] ^= 1;
    writeFlushed(copy, data);
    const before = [stateOf(kept), stateOf(copy)];
    await expect(reflinkDedupe(kept, copy)).rejects.toMatchObject({
      code: 'E_CHANGED',
      message: `${copy} and ${kept} differ (in the first): not duplicates any more; neither changed`,
    });
    expect([stateOf(kept), stateOf(copy)]).toEqual(before);
    expect(fileExtents(copy).some((e) => e.flags.includes('shared'))).toBe(false);
  });

  it('on ext4, which has no reflinks: E_UNSUPPORTED naming the path and the errno', async (ctx) => {
    needLoopFs(ctx, 'ext4');
    const [kept, copy] = [path.join(ext4!.dir, 'kept'), path.join(ext4!.dir, 'copy')];
    writeFlushed(kept, 'same bytes');
    writeFlushed(copy, 'same bytes');
    await expect(reflinkDedupe(kept, copy)).rejects.toMatchObject({
      code: 'E_UNSUPPORTED',
      path: copy,
      message: `${copy}: its file system cannot share extents with ${kept} (FIDEDUPERANGE: EOPNOTSUPP); nothing done`,
    });
  });

  it('across two file systems (XFS and ext4): E_UNSUPPORTED (EXDEV)', async (ctx) => {
    const dir = xfsDir(ctx);
    needLoopFs(ctx, 'ext4');
    const [kept, copy] = [path.join(dir, 'kept'), path.join(ext4!.dir, 'across')];
    writeFlushed(kept, 'same bytes');
    writeFlushed(copy, 'same bytes');
    await expect(reflinkDedupe(kept, copy)).rejects.toMatchObject({
      code: 'E_UNSUPPORTED',
      message: expect.stringContaining('(FIDEDUPERANGE: EXDEV)'),
    });
  });

  it('files of different sizes: E_CHANGED naming both sizes, nothing done', async (ctx) => {
    const dir = xfsDir(ctx);
    const [kept, copy] = [path.join(dir, 'kept'), path.join(dir, 'copy')];
    writeFlushed(kept, 'abc');
    writeFlushed(copy, 'abcd');
    await expect(reflinkDedupe(kept, copy)).rejects.toMatchObject({
      code: 'E_CHANGED',
      path: copy,
      message: `${copy} has 4 bytes, ${kept} 3: not duplicates any more; nothing done`,
    });
    expect(fs.readFileSync(copy, 'utf8')).toBe('abcd');
  });

  it('a symlink, as the copy or as the kept file, is never followed: E_NOT_FILE', async (ctx) => {
    const dir = xfsDir(ctx);
    const data = noiseBytes(MiB, 4);
    const [kept, copy, link] = [path.join(dir, 'kept'), path.join(dir, 'copy'), path.join(dir, 'link')];
    writeFlushed(kept, data);
    writeFlushed(copy, data);
    fs.symlinkSync(copy, link);
    for (const [k, c] of [
      [kept, link],
      [link, kept],
    ])
      await expect(reflinkDedupe(k, c)).rejects.toMatchObject({
        code: 'E_NOT_FILE',
        path: link,
        message: `${link} is a symbolic link, which reflink never follows: nothing deduplicated`,
      });
    expect(fs.readlinkSync(link)).toBe(copy);
    expect(fileExtents(copy).some((e) => e.flags.includes('shared'))).toBe(false);
  });

  it('a directory or a FIFO (whose open does not wait for a writer): E_NOT_FILE', async (ctx) => {
    const dir = xfsDir(ctx);
    const file = path.join(dir, 'file');
    const fifo = path.join(dir, 'fifo');
    writeFlushed(file, '');
    execFileSync('mkfifo', [fifo]);
    for (const [k, c, bad] of [
      [file, dir, dir],
      [dir, file, dir],
      [fifo, file, fifo],
      [file, fifo, fifo],
    ])
      await expect(reflinkDedupe(k, c)).rejects.toMatchObject({
        code: 'E_NOT_FILE',
        path: bad,
        message: `${bad} is not a regular file: nothing deduplicated`,
      });
  });

  it('two empty files: 0 bytes deduplicated', async (ctx) => {
    const dir = xfsDir(ctx);
    writeFlushed(path.join(dir, 'a'), '');
    writeFlushed(path.join(dir, 'b'), '');
    await expect(reflinkDedupe(path.join(dir, 'a'), path.join(dir, 'b'))).resolves.toEqual({ deduped: 0 });
  });

  it('one file twice (a path and its hard link): E_CONFLICT, nothing to share', async (ctx) => {
    const dir = xfsDir(ctx);
    const [kept, copy] = [path.join(dir, 'kept'), path.join(dir, 'hardlink')];
    writeFlushed(kept, 'one inode');
    fs.linkSync(kept, copy);
    await expect(reflinkDedupe(kept, copy)).rejects.toMatchObject({ code: 'E_CONFLICT', path: copy });
  });

  it('a copy that cannot be opened for writing (immutable) or is missing: the errno error, with its path', async (ctx) => {
    const dir = xfsDir(ctx);
    const [kept, copy] = [path.join(dir, 'kept'), path.join(dir, 'copy')];
    writeFlushed(kept, 'same');
    writeFlushed(copy, 'same');
    execFileSync('chattr', ['+i', copy]);
    try {
      await expect(reflinkDedupe(kept, copy)).rejects.toMatchObject({
        code: 'EPERM',
        syscall: 'open',
        path: copy,
        message: `EPERM: operation not permitted, open '${copy}'`,
      });
    } finally {
      execFileSync('chattr', ['-i', copy]);
    }
    const missing = path.join(dir, 'missing');
    await expect(reflinkDedupe(missing, copy)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing });
  });
});
