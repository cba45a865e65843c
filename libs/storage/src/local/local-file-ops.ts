import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { FileOps } from '@filer/engine';

const CHUNK = 1 << 20;

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

/**
 * Local file operations that never replace a file unless told to: a relocation is a hard link
 * plus an unlink (the link fails with EEXIST if anything stands at the target); across devices,
 * or for a copy, the data goes to a temporary name beside the target, is fsync'ed and checked
 * (size, and with `verify` a sha256 of both sides), then linked into place.
 */
export class LocalFileOps implements FileOps {
  stat(p: string): { ino: number; dev: number; size: number; mtimeMs: number } | undefined {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    return st && { ino: st.ino, dev: st.dev, size: st.size, mtimeMs: st.mtimeMs };
  }

  ensureParent(p: string): string[] {
    const missing: string[] = [];
    for (let dir = path.dirname(p); !fs.existsSync(dir); dir = path.dirname(dir)) missing.unshift(dir);
    for (const dir of missing) fs.mkdirSync(dir);
    return missing;
  }

  move(source: string, target: string, opts: { overwrite: boolean; verify: boolean; tmpTag: string }): void {
    try {
      if (opts.overwrite) fs.renameSync(source, target);
      else {
        fs.linkSync(source, target);
        fsyncDir(path.dirname(target));
        fs.unlinkSync(source);
      }
      fsyncDir(path.dirname(source));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    }
    this.copy(source, target, opts);
    fs.unlinkSync(source); // only now: the copy is in place, fsync'ed and verified
    fsyncDir(path.dirname(source));
  }

  copy(source: string, target: string, opts: { overwrite: boolean; verify: boolean; tmpTag: string }): void {
    const tmp = this.tempPath(target, opts.tmpTag);
    const src = fs.statSync(source);
    try {
      fs.copyFileSync(source, tmp, fs.constants.COPYFILE_EXCL);
      fs.utimesSync(tmp, src.atime, src.mtime);
      const fd = fs.openSync(tmp, 'r');
      try {
        fs.fsyncSync(fd);
        if (fs.fstatSync(fd).size !== src.size) throw new VerifyError(`copy of ${source} has the wrong size`);
      } finally {
        fs.closeSync(fd);
      }
      if (opts.verify && sha256Of(tmp) !== sha256Of(source)) throw new VerifyError(`copy of ${source} differs from it`);
      if (opts.overwrite) fs.renameSync(tmp, target);
      else {
        fs.linkSync(tmp, target);
        fs.unlinkSync(tmp);
      }
      fsyncDir(path.dirname(target));
    } catch (e) {
      fs.rmSync(tmp, { force: true }); // never leave a partial file behind, under any name
      throw e;
    }
  }

  sameContent(a: string, b: string): boolean {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    if (sa.size !== sb.size) return false;
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

  unlink(p: string): void {
    fs.unlinkSync(p);
    fsyncDir(path.dirname(p));
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
    let dir = path.dirname(p);
    while (!fs.existsSync(dir)) dir = path.dirname(dir);
    const st = fs.statfsSync(dir);
    return st.bavail * st.bsize;
  }

  /** A hidden name beside the target, unique to the job: resume finds and removes it. */
  private tempPath(target: string, tmpTag: string): string {
    return path.join(path.dirname(target), `.${path.basename(target)}.${tmpTag}.tmp`);
  }
}
