import * as fs from 'node:fs';
import * as path from 'node:path';
import { sameInode, sameVersion, type FaultHook, type FileIdentity, type FileOps, type FileStat, type StageItem } from '@filer/engine';
import { DirHandles, withPaths, type At } from './dir-handles.js';
import { errnoMessage, nativeScan, type NativeScan } from './native-scan.js';
import { fsyncDir, sameBytes, sha256Of, VerifyError } from './file-bytes.js';
import { assertResolves, changedError, identityOfAt, identityOfStat, lstatId } from './local-identity.js';
import { stageAt, stagingPath } from './stage-copy.js';

export { changedError, identityOfStat } from './local-identity.js';
export { stagingPath } from './stage-copy.js';

/** Copies in flight at once (libuv's pool has four threads by default). */
const STAGE_CONCURRENCY = 8;

/** The nearest existing directory above `p`: where its file would be created. */
function nearestDir(p: string): string {
  let dir = path.dirname(p);
  while (!fs.existsSync(dir)) dir = path.dirname(dir);
  return dir;
}

/**
 * O_PATH (Linux, the same value on x86-64 and arm64; node:fs does not name it): opens a name
 * without reading it, so a file may be identified by fstat on the open descriptor even where it
 * cannot be read (a hard-linked move needs no read permission).
 */
const O_PATH = 0o10000000;

const isCode = (e: unknown, code: string): boolean => (e as NodeJS.ErrnoException).code === code;

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
  protected readonly dirs: DirHandles | null;

  constructor(
    protected readonly native: NativeScan | null = nativeScan,
    private readonly fault?: FaultHook,
  ) {
    this.dirs = DirHandles.available(native) ? new DirHandles(native) : null;
  }

  /** Closes the directory descriptors the batch opened. */
  release(): void {
    this.dirs?.release();
  }

  /** Between two actions: closes the batch's least recently used directory descriptors beyond a fixed number. */
  trimDirs(): void {
    this.dirs?.trim();
  }

  /** The path to hand node:fs for `p`: through its opened directory with the addon, else `p` after checking its directory. */
  protected reach(p: string): string {
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
  protected twoAt(op: 'link' | 'rename', from: string, to: string): void {
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
      await stageAt(source, pinnedTmp, item.expect, durable, this.native, this.fault);
      return tmp;
    } catch (e) {
      const err = e as Error;
      if (err.message !== undefined) err.message = err.message.split(source).join(item.source).split(pinnedTmp).join(tmp);
      throw err;
    }
  }

  flushFiles(paths: readonly string[]): void {
    if (paths.length === 0) return;
    if (this.native) {
      // Through the batch's directories where they are open: a name swapped meanwhile neither
      // hides a file system from the flush nor fails it.
      this.syncDevices(paths, (p) => (this.dirs ? this.dirs.tryPinned(p) : p));
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
  protected removeFile(p: string): void {
    try {
      this.unlinkAt(this.dirs ? this.dirs.at(p) : p);
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e;
    }
  }

  flushDirs(dirs: readonly string[]): void {
    // With syncfs one call per file system covers every directory entry made there.
    if (this.native) this.syncDevices(dirs, (d) => (this.dirs ? this.dirs.opened(d) : d));
    else for (const d of dirs) fsyncDir(d);
  }

  /**
   * One syncfs per file system among `paths` (those that exist), each reached by `reach` (through
   * the batch's directories) and stat'ed at once: with the descriptors trimmed as it goes, a
   * thousand directories never hold a thousand descriptors.
   */
  private syncDevices(paths: readonly string[], reach: (p: string) => string | undefined): void {
    const devices = new Map<number, string>();
    for (const p of paths) {
      const r = reach(p);
      const st = r === undefined ? undefined : fs.statSync(r, { throwIfNoEntry: false });
      if (st && !devices.has(st.dev)) devices.set(st.dev, p);
      this.dirs?.trim();
    }
    for (const p of devices.values()) {
      const r = reach(p);
      if (r !== undefined) this.native!.syncFs(r);
    }
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
    if (this.dirs) {
      // One call of the addon, relative to the opened directories: opens, reads and compares both.
      const a = this.dirs.at(pathA);
      const b = this.dirs.at(pathB);
      try {
        return this.native!.sameBytesAt(a.fd, a.name, b.fd, b.name);
      } catch (e) {
        throw withPaths(e, 'compare', pathA, pathB);
      }
    }
    return sameBytes(this.reach(pathA), this.reach(pathB));
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
