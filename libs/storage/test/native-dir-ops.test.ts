import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isFilerError } from '@filer/core';
import { nativeAddonOff } from '@filer/testing';
import { DirHandles } from '../src/local/dir-handles.js';
import { identityOfStat, LocalFileOps } from '../src/local/local-file-ops.js';
import { nativeScan, type NativeScan } from '../src/local/native-scan.js';

// The addon's directory-relative operations (openDir, statAt, linkAt, renameAt, unlinkAt), checked
// against node:fs on real directories, and LocalFileOps acting through them while a directory on
// the path is swapped for a symlink to OUTSIDE (battery 25, design rule 8).
describe.skipIf(nativeAddonOff)('native directory-relative operations', () => {
  const native = nativeScan as NativeScan;
  let base: string, root: string, outside: string;
  const opened: number[] = [];
  const open = (dir: string, create = false): [number, number] => {
    const r = native.openDir(dir, create);
    opened.push(r[0]);
    return r;
  };
  beforeAll(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dir-ops-')));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
  afterEach(() => {
    for (const fd of opened.splice(0)) fs.closeSync(fd);
    root = fs.mkdtempSync(path.join(base, 'root-'));
    outside = fs.mkdtempSync(path.join(base, 'outside-'));
  });
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(base, 'root-'));
    outside = fs.mkdtempSync(path.join(base, 'outside-'));
  });

  it('openDir opens a real directory; statAt gives what lstat gives', () => {
    fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a/b/f'), 'bytes');
    fs.symlinkSync('f', path.join(root, 'a/b/l'));
    const [fd, created] = open(path.join(root, 'a/b'), false);
    expect(created).toBe(0);
    const f = native.statAt(fd, 'f', false)!;
    const st = fs.lstatSync(path.join(root, 'a/b/f'), { bigint: true });
    expect([...f]).toEqual([
      1,
      5,
      Number(st.dev),
      Number(st.ino),
      Number(st.mtimeNs / 1_000_000_000n),
      Number(st.mtimeNs % 1_000_000_000n),
      Number(st.mode & 0o7777n),
      Number(st.uid),
      Number(st.gid),
    ]);
    expect(native.statAt(fd, 'l', false)![0]).toBe(3);
    expect(native.statAt(fd, 'l', true)![3]).toBe(Number(st.ino));
    expect(native.statAt(fd, 'missing', false)).toBeNull();
    // A doubled slash is no component; the root itself opens.
    expect(native.statAt(open(`${root}//a/`)[0], 'b', false)![0]).toBe(2);
    expect(native.statAt(open('/')[0], base.split('/')[1], false)![0]).toBe(2);
  });

  it('openDir refuses a symlinked component (ELOOP), a file on the way (ENOTDIR), a missing one (ENOENT), a relative or dotted path (EINVAL)', () => {
    fs.mkdirSync(path.join(root, 'real'));
    fs.symlinkSync(outside, path.join(root, 'link'));
    fs.writeFileSync(path.join(root, 'file'), '');
    const code = (p: string): string | undefined => {
      try {
        open(p);
        return undefined;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code;
      }
    };
    expect(code(path.join(root, 'link'))).toBe('ELOOP');
    expect(code(path.join(root, 'link', 'x'))).toBe('ELOOP');
    expect(code(path.join(root, 'file', 'x'))).toBe('ENOTDIR');
    expect(code(path.join(root, 'nope'))).toBe('ENOENT');
    expect(code('relative/dir')).toBe('EINVAL');
    expect(code(`${root}/real/../link`)).toBe('EINVAL');
    expect(code(`${root}/./real`)).toBe('EINVAL');
    expect(code('/' + 'x'.repeat(5000))).toBe('ENAMETOOLONG');
    expect(() => native.openDir(42 as unknown as string, false)).toThrow(TypeError);
  });

  it('openDir with create makes the missing components below the last real one, and never through a link', () => {
    const [, created] = open(path.join(root, 'new/deeper'), true);
    expect(created).toBe(2);
    expect(fs.statSync(path.join(root, 'new/deeper')).isDirectory()).toBe(true);
    expect(open(path.join(root, 'new/deeper'), true)[1]).toBe(0);
    fs.symlinkSync(outside, path.join(root, 'link'));
    expect(() => open(path.join(root, 'link/made'), true)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(fs.readdirSync(outside)).toEqual([]);
    fs.chmodSync(path.join(root, 'new'), 0o500);
    try {
      if (process.getuid?.() !== 0) expect(() => open(path.join(root, 'new/x'), true)).toThrow(expect.objectContaining({ code: 'EACCES' }));
    } finally {
      fs.chmodSync(path.join(root, 'new'), 0o700);
    }
  });

  it('linkAt, renameAt and unlinkAt act in the opened directories and give errno errors', () => {
    fs.mkdirSync(path.join(root, 's'));
    fs.mkdirSync(path.join(root, 't'));
    fs.writeFileSync(path.join(root, 's/a'), 'a');
    const [s] = open(path.join(root, 's'));
    const [t] = open(path.join(root, 't'));
    native.linkAt(s, 'a', t, 'a');
    expect(fs.statSync(path.join(root, 't/a')).ino).toBe(fs.statSync(path.join(root, 's/a')).ino);
    expect(() => native.linkAt(s, 'a', t, 'a')).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'linkat' }));
    native.renameAt(t, 'a', t, 'b');
    expect(fs.readdirSync(path.join(root, 't'))).toEqual(['b']);
    native.unlinkAt(t, 'b', false);
    expect(fs.readdirSync(path.join(root, 't'))).toEqual([]);
    expect(() => native.unlinkAt(t, 'b', false)).toThrow(expect.objectContaining({ code: 'ENOENT', errno: -2 }));
    fs.mkdirSync(path.join(root, 't/sub'));
    native.unlinkAt(t, 'sub', true);
    expect(fs.existsSync(path.join(root, 't/sub'))).toBe(false);
    // A name is one component: nothing can be reached beside or above the directory through it.
    for (const bad of ['../s/a', 'x/y', '.', '..', ''])
      expect(() => native.unlinkAt(s, bad, false), bad).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => native.statAt(s, 'n'.repeat(300), false)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    expect(() => native.statAt(-1, 'a', false)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => native.linkAt('x' as unknown as number, 'a', t, 'a')).toThrow(TypeError);
    expect(() => native.renameAt(s, 'missing', t, 'x')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'renameat' }));
    expect(fs.readFileSync(path.join(root, 's/a'), 'utf8')).toBe('a');
  });

  it('a descriptor keeps naming the directory after it is swapped for a symlink: nothing lands in OUTSIDE', () => {
    const d = path.join(root, 'd');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'f'), 'mine');
    fs.writeFileSync(path.join(outside, 'f'), 'not mine');
    const [fd] = open(d);
    fs.renameSync(d, `${d}.bak`);
    fs.symlinkSync(outside, d);
    native.renameAt(fd, 'f', fd, 'g');
    native.unlinkAt(fd, 'g', false);
    expect(fs.readdirSync(`${d}.bak`)).toEqual([]);
    expect(fs.readFileSync(path.join(outside, 'f'), 'utf8')).toBe('not mine');
    expect(() => open(d)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
  });
});

describe.skipIf(nativeAddonOff)('LocalFileOps through directory descriptors', () => {
  let base: string;
  beforeAll(() => {
    // Anywhere but the portable leg the addon and /proc/self/fd are there: a missing one fails here, never skips.
    expect(DirHandles.available(nativeScan)).toBe(true);
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dir-ops-ls-')));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  function setup(): { src: string; dst: string; outside: string; ops: LocalFileOps } {
    const dir = fs.mkdtempSync(path.join(base, 'case-'));
    const [src, dst, outside] = ['src', 'dst', 'outside'].map((n) => path.join(dir, n));
    for (const d of [src, dst, outside]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(src, 'a'), 'A');
    fs.writeFileSync(path.join(outside, 'a'), 'outside A');
    return { src, dst, outside, ops: new LocalFileOps() };
  }

  const swap = (d: string, outside: string): void => {
    fs.renameSync(d, `${d}.bak`);
    fs.symlinkSync(outside, d);
  };

  it('a move whose source directory is swapped after its first use finishes in the real directory', async () => {
    const { src, dst, outside, ops } = setup();
    const expect0 = identityOfStat(fs.lstatSync(path.join(src, 'a'), { bigint: true }));
    expect(ops.stat(path.join(src, 'a'))).toEqual(expect0);
    swap(src, outside);
    // Through the descriptor opened above: the planned file, not OUTSIDE's.
    expect(ops.stat(path.join(src, 'a'))).toEqual(expect0);
    expect(ops.link(path.join(src, 'a'), path.join(dst, 'a'))).toBe(true);
    ops.unlinkIf(path.join(src, 'a'), expect0, 'inode');
    expect(fs.readdirSync(`${src}.bak`)).toEqual([]);
    expect(fs.readFileSync(path.join(dst, 'a'), 'utf8')).toBe('A');
    expect(fs.readFileSync(path.join(outside, 'a'), 'utf8')).toBe('outside A');
    expect(fs.statSync(path.join(outside, 'a')).nlink).toBe(1);
    // A new batch opens afresh: the swapped path is refused with the typed error.
    ops.release();
    let err: unknown;
    try {
      ops.link(path.join(src, 'b'), path.join(dst, 'b'));
    } catch (e) {
      err = e;
    }
    expect(isFilerError(err) && err.code).toBe('E_PATH_CHANGED');
    expect((err as Error).message).toContain(`${src} is no longer reached without a symbolic link (ELOOP)`);
    expect(() => ops.stat(path.join(src, 'a'))).toThrow(expect.objectContaining({ code: 'E_PATH_CHANGED' }));
  });

  it('a copy staged into a destination swapped after it was opened lands in the real directory', async () => {
    const { src, dst, outside, ops } = setup();
    ops.ensureParent(path.join(dst, 'a'));
    swap(dst, outside);
    const [tmp] = await ops.stageMany([{ source: path.join(src, 'a'), target: path.join(dst, 'a'), overwrite: false }], 'filer-t');
    expect(typeof tmp).toBe('string');
    ops.commit(tmp as string, path.join(src, 'a'), path.join(dst, 'a'), { overwrite: false, verify: true });
    expect(fs.readdirSync(`${dst}.bak`)).toEqual(['a']);
    expect(fs.readFileSync(path.join(`${dst}.bak`, 'a'), 'utf8')).toBe('A');
    expect(fs.readdirSync(outside)).toEqual(['a']);
    ops.release();
  });

  it('ensureParent creates below the real directories only, and reports what it made', () => {
    const { dst, outside, ops } = setup();
    expect(ops.ensureParent(path.join(dst, 'x/y/file'))).toEqual([path.join(dst, 'x'), path.join(dst, 'x/y')]);
    ops.release();
    swap(dst, outside);
    expect(() => ops.ensureParent(path.join(dst, 'z/file'))).toThrow(expect.objectContaining({ code: 'E_PATH_CHANGED' }));
    expect(fs.readdirSync(outside)).toEqual(['a']);
    expect(() => ops.removeTemps(path.join(dst, 'a'), 'filer-t')).toThrow(expect.objectContaining({ code: 'E_PATH_CHANGED' }));
    expect(ops.removeEmptyDir(path.join(dst, 'x/y'))).toBe(false);
    expect(fs.readdirSync(outside)).toEqual(['a']);
  });

  it('errors name the whole paths as planned', () => {
    const { src, dst, ops } = setup();
    fs.writeFileSync(path.join(dst, 'a'), 'there');
    expect(() => ops.link(path.join(src, 'a'), path.join(dst, 'a'))).toThrow(
      `EEXIST: file already exists, link '${path.join(src, 'a')}' -> '${path.join(dst, 'a')}'`,
    );
    ops.release();
  });
});
