import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAddonOff } from '@filer/testing';
import { DirHandles } from '../src/local/dir-handles.js';
import { LocalDedupeOps } from '../src/local/local-dedupe-ops.js';
import { nativeScan, type NativeScan } from '../src/local/native-scan.js';

// What a dedupe apply uses beside openDir: openDirAt (a directory from its parent's descriptor),
// sameBytesAt (the full compare in one call), and DirHandles' bound on open descriptors.
describe.skipIf(nativeAddonOff)('directories opened from their parents, compares relative to them', () => {
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

  it('openDirAt opens one component, makes it only with create, and never follows a symlink', () => {
    const base = fs.mkdtempSync(path.join(root, 'open-'));
    fs.mkdirSync(path.join(base, 'd'));
    fs.symlinkSync(path.join(base, 'd'), path.join(base, 'link'));
    fs.writeFileSync(path.join(base, 'file'), '');
    const [top] = native.openDir(base, false);
    try {
      const [d, made] = native.openDirAt(top, 'd', false);
      expect(made).toBe(0);
      expect(fs.realpathSync(`/proc/self/fd/${d}`)).toBe(path.join(base, 'd'));
      fs.closeSync(d);
      expect(codeOf(() => native.openDirAt(top, 'link', false))).toBe('ELOOP');
      expect(codeOf(() => native.openDirAt(top, 'file', false))).toBe('ENOTDIR');
      expect(codeOf(() => native.openDirAt(top, 'new', false))).toBe('ENOENT');
      for (const bad of ['..', '.', '', 'a/b']) expect(codeOf(() => native.openDirAt(top, bad, true))).toBe('EINVAL');
      const [n, madeNew] = native.openDirAt(top, 'new', true);
      expect(madeNew).toBe(1);
      expect(fs.statSync(path.join(base, 'new')).isDirectory()).toBe(true);
      fs.closeSync(n);
      expect(fs.existsSync(path.join(base, '..', 'new'))).toBe(false);
    } finally {
      fs.closeSync(top);
    }
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
