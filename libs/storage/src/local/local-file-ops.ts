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
import { nativeScan, type NativeScan } from './native-scan.js';

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

/**
 * Local file operations that never replace a file unless told to. A relocation on one device is
 * a hard link plus an unlink (the link fails with EEXIST if anything stands at the target). A copy
 * (or a move across devices) goes to a hidden temporary name beside the target, keeps the source's
 * mtime, is size-checked, made durable — one syncfs per batch with the native scanner, else an
 * fsync per file — optionally compared by sha256, and only then linked into place.
 */
export class LocalFileOps implements FileOps {
  constructor(
    private readonly native: NativeScan | null = nativeScan,
    private readonly fault?: FaultHook,
  ) {}

  stat(p: string, follow = false): FileStat | undefined {
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
    const missing: string[] = [];
    for (let dir = path.dirname(p); !fs.existsSync(dir); dir = path.dirname(dir)) missing.unshift(dir);
    for (const dir of missing) fs.mkdirSync(dir);
    return missing;
  }

  link(source: string, target: string): boolean {
    return this.unlessCrossDevice(() => fs.linkSync(source, target));
  }

  replace(source: string, target: string): boolean {
    return this.unlessCrossDevice(() => fs.renameSync(source, target));
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

  private async stageOne({ source, target, expect }: StageItem, tmpTag: string, durable: boolean): Promise<string> {
    const tmp = this.tempPath(target, tmpTag);
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
      return tmp;
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
      const devices = new Map<number, string>();
      for (const p of paths) {
        const st = fs.statSync(p, { throwIfNoEntry: false });
        if (st && !devices.has(st.dev)) devices.set(st.dev, p);
      }
      for (const p of devices.values()) this.native.syncFs(p);
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
      if (opts.verify && sha256Of(tmp) !== sha256Of(source)) throw new VerifyError(`copy of ${source} differs from it`);
      if (opts.overwrite) fs.renameSync(tmp, target);
      else fs.linkSync(tmp, target);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  flushDirs(dirs: readonly string[]): void {
    // With syncfs one call per file system covers every directory entry made there.
    if (this.native) this.flushFiles(dirs);
    else for (const d of dirs) fsyncDir(d);
  }

  async move(
    source: string,
    target: string,
    opts: { overwrite: boolean; verify: boolean; tmpTag: string; expect: FileIdentity },
  ): Promise<void> {
    const now = lstatId(source);
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

  sameContent(a: string, b: string): boolean {
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
      fs.rmdirSync(dir);
      return true;
    } catch {
      return false;
    }
  }

  removeTemps(target: string, tmpTag: string): void {
    fs.rmSync(this.tempPath(target, tmpTag), { force: true });
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
