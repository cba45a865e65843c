import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAddonOff } from '@filer/testing';
import { DirHandles } from '../src/local/dir-handles.js';
import { LocalDedupeOps } from '../src/local/local-dedupe-ops.js';
import { nativeScan, type NativeScan } from '../src/local/native-scan.js';

// What a dedupe apply uses of the addon: openDir (one openat2 with RESOLVE_NO_SYMLINKS),
// sameBytesAt (the full compare in one call), and DirHandles' bound on open descriptors.
describe.skipIf(nativeAddonOff)('deep directories opened in one call, compares relative to them', () => {
  const native = nativeScan as NativeScan;
  let root: string;
  beforeAll(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dir-at-')));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code;
    }
  };

  it('openDir (one openat2) opens a deep directory, refuses a symlink or a file anywhere on the path, and creates only with create', () => {
    const base = fs.mkdtempSync(path.join(root, 'open-'));
    const deep = path.join(base, 'a/b/c/d/e/f/g/h/i/j');
    fs.mkdirSync(deep, { recursive: true });
    fs.symlinkSync(path.join(base, 'a'), path.join(base, 'link'));
    fs.writeFileSync(path.join(base, 'file'), '');
    const [fd, made] = native.openDir(deep, false);
    expect(made).toBe(0);
    expect(fs.realpathSync(`/proc/self/fd/${fd}`)).toBe(deep);
    fs.closeSync(fd);
    expect(codeOf(() => native.openDir(path.join(base, 'link/b/c'), false))).toBe('ELOOP');
    expect(codeOf(() => native.openDir(path.join(base, 'link'), false))).toBe('ELOOP');
    expect(codeOf(() => native.openDir(path.join(base, 'file/x'), false))).toBe('ENOTDIR');
    expect(codeOf(() => native.openDir(path.join(base, 'new/x'), false))).toBe('ENOENT');
    expect(codeOf(() => native.openDir(`${base}/a/../a`, false))).toBe('EINVAL');
    expect(codeOf(() => native.openDir(`${base}/a/.`, false))).toBe('EINVAL');
    expect(codeOf(() => native.openDir(path.join(base, 'link/new'), true))).toBe('ELOOP');
    expect(fs.existsSync(path.join(base, 'a/new'))).toBe(false);
    const [n, madeNew] = native.openDir(path.join(base, 'new/x'), true);
    expect(madeNew).toBe(2);
    expect(fs.statSync(path.join(base, 'new/x')).isDirectory()).toBe(true);
    fs.closeSync(n);
  });

  it('sameBytesAt compares whole files: equal, one byte apart, other sizes, symlinks, missing', () => {
    const base = fs.mkdtempSync(path.join(root, 'cmp-'));
    const big = Buffer.alloc(3 * 256 * 1024 + 17, 7); // more than one 256 KiB chunk
    fs.writeFileSync(path.join(base, 'a'), big);
    fs.writeFileSync(path.join(base, 'b'), big);
    const last = Buffer.from(big);
    last[last.length - 1] = 8; // differs in the last chunk only
    fs.writeFileSync(path.join(base, 'c'), last);
    fs.writeFileSync(path.join(base, 'short'), big.subarray(1));
    fs.writeFileSync(path.join(base, 'e1'), '');
    fs.writeFileSync(path.join(base, 'e2'), '');
    fs.symlinkSync('a', path.join(base, 'la'));
    const [fd] = native.openDir(base, false);
    try {
      expect(native.sameBytesAt(fd, 'a', fd, 'b')).toBe(true);
      expect(native.sameBytesAt(fd, 'a', fd, 'c')).toBe(false);
      expect(native.sameBytesAt(fd, 'a', fd, 'short')).toBe(false);
      expect(native.sameBytesAt(fd, 'e1', fd, 'e2')).toBe(true);
      expect(native.sameBytesAt(fd, 'a', fd, 'la')).toBe(false);
      expect(native.sameBytesAt(fd, 'la', fd, 'a')).toBe(false);
      expect(codeOf(() => native.sameBytesAt(fd, 'a', fd, 'missing'))).toBe('ENOENT');
      expect(codeOf(() => native.sameBytesAt(fd, '../a', fd, 'a'))).toBe('EINVAL');
    } finally {
      fs.closeSync(fd);
    }
    const ops = new LocalDedupeOps();
    try {
      expect(ops.sameContent(path.join(base, 'a'), path.join(base, 'b'))).toBe(true);
      expect(ops.sameContent(path.join(base, 'a'), path.join(base, 'c'))).toBe(false);
      // Errors name the paths as planned, not a descriptor.
      expect(() => ops.sameContent(path.join(base, 'a'), path.join(base, 'missing'))).toThrow(path.join(base, 'missing'));
    } finally {
      ops.release();
    }
  });

  it('DirHandles opens 3,000 directories with at most its bound open after each trim, and reopens an evicted one', () => {
    const base = fs.mkdtempSync(path.join(root, 'many-'));
    const dirs: string[] = [];
    for (let i = 0; i < 3000; i++) dirs.push(path.join(base, `p${i % 30}`, `d${i}`));
    const before = fdCount();
    const handles = new DirHandles(native, 100);
    let peak = 0;
    for (const d of dirs) {
      const { created } = handles.open(d, true);
      expect(created).toContain(d);
      handles.trim();
      peak = Math.max(peak, fdCount() - before);
    }
    expect(handles.openCount).toBe(100);
    expect(peak).toBeLessThanOrEqual(100);
    // The first directory was closed long ago: asked again, it is opened again, the same directory.
    const at = handles.at(path.join(dirs[0], 'x'));
    expect(fs.realpathSync(`/proc/self/fd/${at.fd}`)).toBe(dirs[0]);
    handles.release();
    expect(fdCount()).toBe(before);
  });
});
