import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { FilerError } from '@filer/core';
import {
  describeIdentity,
  sameInode,
  sameVersion,
  type FaultHook,
  type FileIdentity,
  type FileOps,
  type FileStat,
  type StageItem,
} from '@filer/engine';
import { DirHandles, pathChangedError, withPaths, type At } from './dir-handles.js';
import { errnoMessage, nativeScan, type NativeScan } from './native-scan.js';

const CHUNK = 1 << 20;
/** Copies in flight at once (libuv's pool has four threads by default). */
const STAGE_CONCURRENCY = 8;
/**
 * Staged files this large are written back at once (fdatasync on the thread pool; natively, their
 * writeback starts chunk by chunk during the copy) while the next copies run, so the batch's final
 * syncfs has little left to wait for; smaller ones are left to that one syncfs, since a flush per
 * file would cost a journal commit each.
 */
const EARLY_FLUSH_BYTES = 8 << 20;

/** Makes a directory entry durable: the rename or link that made it survives a crash. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fs.fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on directories; the data itself was fsync'ed
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

async function flushData(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

function sha256Of(file: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = fs.openSync(file, 'r');
  try {
    for (let pos = 0; ;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

class VerifyError extends Error {
  readonly code = 'E_VERIFY';
}

/** Longest name a directory entry may have (Linux NAME_MAX). */
const NAME_MAX = 255;

/**
 * A hidden name beside the target, unique to the job and to the target: resume finds and removes
 * it. `.NAME.TAG.tmp` where that fits in a name; for a long NAME a digest of it stands in its
 * place, so a file whose own name is near NAME_MAX can still be staged.
 */
export function stagingPath(target: string, tmpTag: string): string {
  const base = path.basename(target);
  let name = `.${base}.${tmpTag}.tmp`;
  if (Buffer.byteLength(name) > NAME_MAX) name = `.${createHash('sha256').update(base).digest('hex').slice(0, 32)}.${tmpTag}.tmp`;
  return path.join(path.dirname(target), name);
}

/**
 * O_PATH (Linux, the same value on x86-64 and arm64; node:fs does not name it): opens a name
 * without reading it, so a file may be identified by fstat on the open descriptor even where it
 * cannot be read (a hard-linked move needs no read permission).
 */
const O_PATH = 0o10000000;

/** The identity of a bigint stat: device, inode, size, mtime in nanoseconds. */
export function identityOfStat(st: fs.BigIntStats): FileStat {
  const id: FileStat = { dev: Number(st.dev), ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
  if (st.isSymbolicLink()) id.symlink = true;
  return id;
}

/** E_CHANGED: `path` is not the file the job expected there. */
export function changedError(
  path: string,
  expected: FileIdentity,
  found: FileIdentity | undefined,
  what = 'changed since it was planned',
): FilerError {
  return new FilerError(
    'E_CHANGED',
    `${path} ${what}: expected ${describeIdentity(expected)}, found ${found === undefined ? 'nothing' : describeIdentity(found)}`,
    { path },
  );
}

/** The nearest existing directory above `p`: where its file would be created. */
function nearestDir(p: string): string {
  let dir = path.dirname(p);
  while (!fs.existsSync(dir)) dir = path.dirname(dir);
  return dir;
}

function lstatId(p: string): FileStat | undefined {
  const st = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
  return st && identityOfStat(st);
}

/** The identity of the addon's statAt fields ([kind, size, dev, ino, mtimeSec, mtimeNsec]). */
function identityOfAt(f: Float64Array): FileStat {
  const id: FileStat = { dev: f[2], ino: f[3], size: f[1], mtimeNs: (BigInt(f[4]) * 1_000_000_000n + BigInt(f[5])).toString() };
  if (f[0] === 3) id.symlink = true;
  return id;
}

const isCode = (e: unknown, code: string): boolean => (e as NodeJS.ErrnoException).code === code;

/** The one-directory answer of movedDirs: E_PATH_CHANGED when `dir` (or its nearest existing ancestor) no longer resolves to itself. */
function assertResolves(dir: string): void {
  let existing = dir;
  while (!fs.existsSync(existing) && existing !== '/') existing = path.dirname(existing);
  let real = '';
  try {
    real = fs.realpathSync.native(existing);
  } catch {
    // gone meanwhile: as changed as a symlink
  }
  if (real !== existing) throw pathChangedError(dir, Object.assign(new Error('realpath'), { code: 'ELOOP' }));
}

/**
 * Local file operations that never replace a file unless told to. A relocation on one device is
 * a hard link plus an unlink (the link fails with EEXIST if anything stands at the target). A copy
 * (or a move across devices) goes to a hidden temporary name beside the target, keeps the source's
 * mtime, is size-checked, made durable — one syncfs per batch with the native scanner, else an
 * fsync per file — optionally compared by sha256, and only then linked into place.
 *
 * Symlink swaps (design rule 8): with the addon, every action works relative to its directories'
 * descriptors, opened once per batch without following a symlink on the way (DirHandles), so a
 * directory swapped for a link to elsewhere can neither redirect nor be written through. Without
 * it, each action first checks that its directories still resolve to themselves (E_PATH_CHANGED);
 * a swap between that check and the system call remains possible there (docs/architecture.md).
 */
export class LocalFileOps implements FileOps {
  private readonly dirs: DirHandles | null;

  constructor(
    private readonly native: NativeScan | null = nativeScan,
    private readonly fault?: FaultHook,
  ) {
    this.dirs = DirHandles.available(native) ? new DirHandles(native) : null;
  }

  /** Closes the directory descriptors the batch opened. */
  release(): void {
    this.dirs?.release();
  }

  /** The path to hand node:fs for `p`: through its opened directory with the addon, else `p` after checking its directory. */
  private reach(p: string): string {
    if (this.dirs) return this.dirs.pinned(p);
    assertResolves(path.dirname(p));
    return p;
  }

  stat(p: string, follow = false): FileStat | undefined {
    if (this.dirs && p !== '/') {
      const at = this.dirs.tryAt(p);
      const f = at && this.native!.statAt(at.fd, at.name, follow);
      return f ? identityOfAt(f) : undefined;
    }
    if (!follow) return lstatId(p);
    const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
    return st && identityOfStat(st);
  }

  movedDirs(dirs: readonly string[]): Set<string> {
    const moved = new Set<string>();
    for (const dir of dirs) {
      // The nearest existing ancestor: directories below it are the job's to create.
      let existing = dir;
      while (!fs.existsSync(existing) && existing !== '/') existing = path.dirname(existing);
      let real: string;
      try {
        real = fs.realpathSync.native(existing);
      } catch {
        real = '';
      }
      if (real !== existing) moved.add(dir);
    }
    return moved;
  }

  missingParents(p: string): string[] {
    const missing: string[] = [];
    for (let dir = path.dirname(p); !fs.existsSync(dir); dir = path.dirname(dir)) missing.unshift(dir);
    return missing;
  }

  ensureParent(p: string): string[] {
    if (this.dirs) return this.dirs.open(path.dirname(p), true).created;
    assertResolves(path.dirname(p));
    const missing: string[] = [];
    for (let dir = path.dirname(p); !fs.existsSync(dir); dir = path.dirname(dir)) missing.unshift(dir);
    for (const dir of missing) fs.mkdirSync(dir);
    return missing;
  }

  link(source: string, target: string): boolean {
    return this.unlessCrossDevice(() => this.twoAt('link', source, target));
  }

  replace(source: string, target: string): boolean {
    return this.unlessCrossDevice(() => this.twoAt('rename', source, target));
  }

  /** link or rename `from` to `to`: relative to their opened directories, or by path once both directories are checked. */
  private twoAt(op: 'link' | 'rename', from: string, to: string): void {
    if (this.dirs) {
      const a = this.dirs.at(from);
      const b = this.dirs.at(to);
      try {
        if (op === 'link') this.native!.linkAt(a.fd, a.name, b.fd, b.name);
        else this.native!.renameAt(a.fd, a.name, b.fd, b.name);
      } catch (e) {
        throw withPaths(e, op, from, to);
      }
      return;
    }
    assertResolves(path.dirname(from));
    assertResolves(path.dirname(to));
    if (op === 'link') fs.linkSync(from, to);
    else fs.renameSync(from, to);
  }

  /** Removes `p` (an empty directory with `dir`): relative to its opened directory, or by path once it is checked. */
  private unlinkAt(at: At | string, dir = false): void {
    if (typeof at === 'string') {
      assertResolves(path.dirname(at));
      if (dir) fs.rmdirSync(at);
      else fs.unlinkSync(at);
      return;
    }
    try {
      this.native!.unlinkAt(at.fd, at.name, dir);
    } catch (e) {
      throw withPaths(e, dir ? 'rmdir' : 'unlink', at.path);
    }
  }

  async stageMany(items: readonly StageItem[], tmpTag: string, opts: { durable?: boolean } = {}): Promise<(string | Error)[]> {
    const durable = opts.durable !== false;
    const out = new Array<string | Error>(items.length);
    let next = 0;
    // Copies run on libuv's thread pool, several at once: file creation and data copying are
    // kernel work that two cores can share.
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        try {
          out[i] = await this.stageOne(items[i], tmpTag, durable);
        } catch (e) {
          out[i] = e as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(STAGE_CONCURRENCY, items.length) }, worker));
    return out;
  }

  private async stageOne(item: StageItem, tmpTag: string, durable: boolean): Promise<string> {
    const tmp = this.tempPath(item.target, tmpTag);
    // Both ends through their directories as resolved now (pinned: the copy runs on the thread
    // pool, after any check could be made); errors are worded with the paths as planned.
    const source = this.reach(item.source);
    const pinnedTmp = this.reach(tmp);
    try {
      await this.stageAt(source, pinnedTmp, item.expect, durable);
      return tmp;
    } catch (e) {
      const err = e as Error;
      if (err.message !== undefined) err.message = err.message.split(source).join(item.source).split(pinnedTmp).join(tmp);
      throw err;
    }
  }

  private async stageAt(source: string, tmp: string, expect: FileIdentity | undefined, durable: boolean): Promise<void> {
    try {
      // What a source link leads to is copied (copy -L); the link is checked like any file.
      const named = await fsp.lstat(source, { bigint: true });
      const src = named.isSymbolicLink() ? await fsp.stat(source, { bigint: true }) : named;
      // The source is checked before and after its copy: a write meanwhile would leave a torn copy.
      if (expect !== undefined && !sameVersion(identityOfStat(src), expect)) throw changedError(source, expect, identityOfStat(src));
      if (!src.isFile()) throw new FilerError('E_NOT_FILE', `${source} is not a regular file`, { path: source });
      const early = durable && Number(src.size) >= EARLY_FLUSH_BYTES;
      if (this.fault !== undefined) await this.copyHalfThenFault(source, tmp);
      // Natively, a large file's writeback starts chunk by chunk while it is copied.
      if (this.native) await this.native.copyStaged(source, tmp, early);
      else await fsp.copyFile(source, tmp, fs.constants.COPYFILE_EXCL);
      const after = identityOfStat(await (named.isSymbolicLink() ? fsp.stat : fsp.lstat)(source, { bigint: true }));
      if (!sameVersion(after, identityOfStat(src))) throw changedError(source, identityOfStat(src), after, 'changed while it was copied');
      const mtime = new Date(Number(src.mtimeMs));
      await fsp.utimes(tmp, new Date(Number(src.atimeMs)), mtime);
      if ((await fsp.stat(tmp)).size !== Number(src.size)) throw new VerifyError(`copy of ${source} has the wrong size`);
      if (early && !this.native) await flushData(tmp);
    } catch (e) {
      await fsp.rm(tmp, { force: true }); // never leave a partial file behind, under any name
      throw e;
    }
  }

  /**
   * For the `mid-copy` fault: writes the first half of `source` to `tmp` (flushed), then calls the
   * hook, which kills the process when armed; otherwise the half copy is dropped and the copy runs.
   */
  private async copyHalfThenFault(source: string, tmp: string): Promise<void> {
    const size = (await fsp.stat(source)).size;
    const data = Buffer.alloc(Math.floor(size / 2));
    const src = await fsp.open(source, 'r');
    try {
      await src.read(data, 0, data.length, 0);
    } finally {
      await src.close();
    }
    const out = await fsp.open(tmp, 'wx');
    try {
      await out.write(data);
      await out.datasync();
    } finally {
      await out.close();
    }
    this.fault!('mid-copy');
    await fsp.rm(tmp, { force: true });
  }

  flushFiles(paths: readonly string[]): void {
    if (paths.length === 0) return;
    if (this.native) {
      // Through the batch's directories where they are open: a name swapped meanwhile neither
      // hides a file system from the flush nor fails it.
      this.syncDevices(paths.map((p) => (this.dirs ? this.dirs.tryPinned(p) : p)));
      return;
    }
    for (const p of paths) {
      const fd = fs.openSync(p, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  commit(tmp: string, source: string, target: string, opts: { overwrite: boolean; verify: boolean }): void {
    try {
      if (opts.verify && sha256Of(this.reach(tmp)) !== sha256Of(this.reach(source)))
        throw new VerifyError(`copy of ${source} differs from it`);
      this.twoAt(opts.overwrite ? 'rename' : 'link', tmp, target);
    } finally {
      this.removeFile(tmp);
    }
  }

  /** Removes a file if it is there (a staged copy). */
  private removeFile(p: string): void {
    try {
      this.unlinkAt(this.dirs ? this.dirs.at(p) : p);
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e;
    }
  }

  flushDirs(dirs: readonly string[]): void {
    // With syncfs one call per file system covers every directory entry made there.
    if (this.native) this.syncDevices(dirs.map((d) => (this.dirs ? this.dirs.opened(d) : d)));
    else for (const d of dirs) fsyncDir(d);
  }

  /** One syncfs per file system among `paths` (those that exist). */
  private syncDevices(paths: readonly (string | undefined)[]): void {
    const devices = new Map<number, string>();
    for (const p of paths) {
      const st = p === undefined ? undefined : fs.statSync(p, { throwIfNoEntry: false });
      if (st && !devices.has(st.dev)) devices.set(st.dev, p!);
    }
    for (const p of devices.values()) this.native!.syncFs(p);
  }

  async move(
    source: string,
    target: string,
    opts: { overwrite: boolean; verify: boolean; tmpTag: string; expect: FileIdentity },
  ): Promise<void> {
    const now = this.stat(source);
    if (now === undefined || !sameVersion(now, opts.expect)) throw changedError(source, opts.expect, now);
    const moved = opts.overwrite ? this.replace(source, target) : this.link(source, target);
    if (!moved) {
      const [tmp] = await this.stageMany([{ source, target, expect: opts.expect }], opts.tmpTag);
      if (tmp instanceof Error) throw tmp;
      this.flushFiles([tmp]);
      this.commit(tmp, source, target, opts);
    }
    fsyncDir(path.dirname(target));
    // Only now, the target in place and durable; a copy's source only while it is what was copied.
    if (!opts.overwrite || !moved) this.unlinkIf(source, opts.expect, moved ? 'inode' : 'version');
    fsyncDir(path.dirname(source));
  }

  sameContent(pathA: string, pathB: string): boolean {
    const a = this.reach(pathA);
    const b = this.reach(pathB);
    const sa = fs.lstatSync(a);
    const sb = fs.lstatSync(b);
    if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
    const ba = Buffer.allocUnsafe(CHUNK);
    const bb = Buffer.allocUnsafe(CHUNK);
    const fa = fs.openSync(a, 'r');
    const fb = fs.openSync(b, 'r');
    try {
      for (let pos = 0; pos < sa.size;) {
        const n = fs.readSync(fa, ba, 0, CHUNK, pos);
        const m = fs.readSync(fb, bb, 0, CHUNK, pos);
        if (n !== m || n === 0 || ba.compare(bb, 0, m, 0, n) !== 0) return false;
        pos += n;
      }
      return true;
    } finally {
      fs.closeSync(fa);
      fs.closeSync(fb);
    }
  }

  unlinkIf(p: string, expected: FileIdentity, match: 'inode' | 'version'): void {
    if (this.dirs) {
      // Checked and removed relative to the directory opened for the batch: the same name in it.
      const at = this.dirs.at(p);
      const f = this.native!.statAt(at.fd, at.name, false);
      // Gone is ENOENT, as the portable open below says it: deleted is not "changed".
      if (!f) throw Object.assign(new Error(errnoMessage(2, 'unlink', p)), { code: 'ENOENT', errno: -2, syscall: 'unlink', path: p });
      const found = identityOfAt(f);
      const same = match === 'inode' ? sameInode(found, expected) : sameVersion(found, expected);
      if (!same) throw changedError(p, expected, found, match === 'inode' ? 'is no longer the same file' : 'changed since it was copied');
      this.unlinkAt(at);
      return;
    }
    assertResolves(path.dirname(p));
    const fd = fs.openSync(p, O_PATH | fs.constants.O_NOFOLLOW);
    try {
      const found = identityOfStat(fs.fstatSync(fd, { bigint: true }));
      const same = match === 'inode' ? sameInode(found, expected) : sameVersion(found, expected);
      if (!same) throw changedError(p, expected, found, match === 'inode' ? 'is no longer the same file' : 'changed since it was copied');
      // The name must still lead to the inode just checked (not one renamed over it meanwhile).
      const named = lstatId(p);
      if (named === undefined || !sameInode(named, found)) throw changedError(p, expected, named, 'was replaced while it was checked');
      fs.unlinkSync(p);
    } finally {
      fs.closeSync(fd);
    }
  }

  removeEmptyDir(dir: string): boolean {
    try {
      this.unlinkAt(this.dirs ? this.dirs.at(dir) : dir, true);
      return true;
    } catch {
      return false;
    }
  }

  removeTemps(target: string, tmpTag: string): void {
    const tmp = this.tempPath(target, tmpTag);
    if (this.dirs && this.dirs.tryAt(tmp) === undefined) return; // no directory, no temp
    this.removeFile(tmp);
  }

  freeBytes(p: string): number {
    const st = fs.statfsSync(nearestDir(p));
    return st.bavail * st.bsize;
  }

  freeInodes(p: string): number | undefined {
    const st = fs.statfsSync(nearestDir(p));
    // A file system without an inode table of fixed size (btrfs, say) reports 0 inodes in all.
    return st.files === 0 ? undefined : st.ffree;
  }

  private unlessCrossDevice(op: () => void): boolean {
    try {
      op();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EXDEV') return false;
      throw e;
    }
  }

  private tempPath(target: string, tmpTag: string): string {
    return stagingPath(target, tmpTag);
  }
}
