import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { file, makeTree, nativeAddonOff, noiseBytes, type TempTree } from '@filer/testing';
import { identityOfStat } from '../src/local/local-identity.js';
import { nativeScan } from '../src/local/native-scan.js';
import { unshareCopy } from '../src/local/unshare-copy.js';

// unshareCopy (a reflink's undo): the file gets a new inode holding its own bytes, with its owner,
// group, set-id and mode bits and its mtime to the nanosecond; a file not as expected is E_CHANGED
// and stays as it was. (Extents: apps/cli/test/dupes-actions-reflink.test.ts, on XFS.)
describe.skipIf(nativeAddonOff)('unshareCopy', () => {
  let t: TempTree | undefined;
  afterEach(() => t?.cleanup());
  const BODY = noiseBytes(3 * 1024 * 1024 + 17, 9);
  const idOf = (p: string) => identityOfStat(fs.lstatSync(p, { bigint: true }));

  it('rewrites the file as a new inode: bytes, owner, mode and mtime (ns) unchanged, no temporary left', async () => {
    t = makeTree({ 'd/copy': file(BODY, { mode: 0o2750 }) });
    const p = t.path('d/copy');
    if (process.getuid?.() === 0) fs.chownSync(p, 4321, 4322);
    fs.chmodSync(p, 0o2750);
    fs.utimesSync(p, 1_500_000_000, 1_600_000_000);
    const before = fs.lstatSync(p, { bigint: true });
    const expect0 = idOf(p);
    expect(await unshareCopy(nativeScan, p, expect0, 'filer-test-undo')).toBe('unshared');
    const after = fs.lstatSync(p, { bigint: true });
    expect(after.ino).not.toBe(before.ino);
    expect(fs.readFileSync(p).equals(BODY)).toBe(true);
    expect([after.uid, after.gid, after.mode, after.mtimeNs, after.size]).toEqual([
      before.uid,
      before.gid,
      before.mode,
      before.mtimeNs,
      before.size,
    ]);
    expect(fs.readdirSync(t.path('d'))).toEqual(['copy']);
  });

  it('keeps an mtime with nanoseconds that node:fs cannot set (touch sets them)', async () => {
    t = makeTree({ copy: file(BODY) });
    const p = t.path('copy');
    execFileSync('touch', ['-m', '-d', '@1600000000.123456789', p]);
    const ns = fs.lstatSync(p, { bigint: true }).mtimeNs;
    expect(ns).toBe(1_600_000_000_123_456_789n);
    await unshareCopy(nativeScan, p, idOf(p), 'filer-test-undo');
    expect(fs.lstatSync(p, { bigint: true }).mtimeNs).toBe(ns);
  });

  it('a file changed since the job (size or mtime) is E_CHANGED: left as it is, no temporary left', async () => {
    t = makeTree({ copy: file(BODY) });
    const p = t.path('copy');
    const planned = idOf(p);
    fs.appendFileSync(p, 'x');
    const now = fs.lstatSync(p, { bigint: true });
    await expect(unshareCopy(nativeScan, p, planned, 'filer-test-undo')).rejects.toMatchObject({ code: 'E_CHANGED' });
    expect(fs.lstatSync(p, { bigint: true }).ino).toBe(now.ino);
    expect(fs.readdirSync(t.root)).toEqual(['copy']);
  });

  it('a file with other hard links is left as it is (a new inode would split them): linked', async () => {
    t = makeTree({ copy: file(BODY) });
    const p = t.path('copy');
    fs.linkSync(p, t.path('other-name'));
    const ino = fs.lstatSync(p).ino;
    expect(await unshareCopy(nativeScan, p, idOf(p), 'filer-test-undo')).toBe('linked');
    expect([fs.lstatSync(p).ino, fs.lstatSync(t.path('other-name')).ino]).toEqual([ino, ino]);
    expect(fs.readdirSync(t.root).sort()).toEqual(['copy', 'other-name']);
  });

  it('without the addon: E_UNSUPPORTED, nothing done', async () => {
    t = makeTree({ copy: file('x') });
    await expect(unshareCopy(null, t.path('copy'), idOf(t.path('copy')), 'tag')).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
  });
});
