import * as fs from 'node:fs';
import * as path from 'node:path';
import { FilerError } from '@filer/core';
import { errnoMessage, type NativeScan } from './native-scan.js';

/** Where node:fs reaches a name through an open directory descriptor (Linux's /proc magic links). */
const PROC_FD = '/proc/self/fd';

/** A file named relative to an open directory: the descriptor, the name in it, and the path as planned. */
export interface At {
  fd: number;
  name: string;
  path: string;
}

/**
 * E_PATH_CHANGED: `dir` cannot be reached from "/" without a symbolic link (or a component is no
 * longer a directory) — something on the job's path was replaced since the plan resolved it.
 */
export function pathChangedError(dir: string, cause: NodeJS.ErrnoException): FilerError {
  return new FilerError(
    'E_PATH_CHANGED',
    `${dir} is no longer reached without a symbolic link (${cause.code}): a directory on the path was replaced since the plan; nothing done`,
    { path: dir },
  );
}

/** An errno error of the addon (which names only the last component), worded with the whole path(s). */
export function withPaths(e: unknown, syscall: string, from: string, to?: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err.errno !== 'number') return e;
  err.message = errnoMessage(-err.errno, syscall, to === undefined ? from : `${from}' -> '${to}`);
  return err;
}

const isSwapped = (e: unknown): boolean => ['ELOOP', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * Directory descriptors held open at once, beyond one action's own (see `trim`): a dedupe batch
 * touches three directories per action, and its descriptors must not grow with the batch. With
 * 256 the corpus's apply reopened directories again and again (one loaded round: 11.2 s against
 * 8.3 s with 1,024); 1,024 is far below the usual limit of open files, which Node raises to the
 * hard limit at start.
 */
export const MAX_OPEN_DIRS = 1024;

/**
 * The directories a batch acts in, each opened once (the addon's openDir: one openat2 that follows
 * no symlink anywhere on the path, or component by component from "/" with O_NOFOLLOW) and kept
 * open until `release` (or `trim`): every link, rename, stat and unlink of the batch is made
 * relative to the descriptor, so a directory swapped for a symlink after it was opened cannot
 * redirect them — they still land in the directory the plan resolved. A directory that cannot be
 * opened that way fails with E_PATH_CHANGED.
 */
export class DirHandles {
  /** Open directories, least recently used first (a use moves one to the end). */
  private readonly fds = new Map<string, number>();
  /**
   * Directories found missing in this batch: asked again for each file (the space check stats
   * every target's parents before the job makes them), each would cost a walk from "/". Forgotten
   * once the batch creates a directory.
   */
  private readonly missing = new Set<string>();

  constructor(
    private readonly native: NativeScan,
    private readonly maxOpen = MAX_OPEN_DIRS,
  ) {}

  /** True where the addon has the directory functions and /proc gives paths through descriptors. */
  static available(native: NativeScan | null): native is NativeScan {
    return native !== null && typeof native.openDir === 'function' && fs.existsSync(PROC_FD);
  }

  /** The open descriptor of directory `dir` (absolute, resolved); `create` makes missing components, returned shallowest first. */
  open(dir: string, create = false): { fd: number; created: string[] } {
    const cached = this.fds.get(dir);
    if (cached !== undefined) {
      this.fds.delete(dir);
      this.fds.set(dir, cached);
      return { fd: cached, created: [] };
    }
    if (!create && this.missing.has(dir)) throw Object.assign(new Error(errnoMessage(2, 'open', dir)), { code: 'ENOENT', errno: -2 });
    const created: string[] = [];
    let fd: number;
    try {
      let n: number;
      [fd, n] = this.native.openDir(dir, create);
      for (let d = dir, i = 0; i < n; i++, d = path.dirname(d)) created.unshift(d);
    } catch (e) {
      if (isSwapped(e)) throw pathChangedError(dir, e as NodeJS.ErrnoException);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !create) this.missing.add(dir);
      throw withPaths(e, create ? 'mkdir' : 'open', dir);
    }
    this.fds.set(dir, fd);
    if (created.length > 0) this.missing.clear();
    return { fd, created };
  }

  /** `p`'s directory, opened, and its name there; undefined when the directory does not exist. */
  tryAt(p: string): At | undefined {
    try {
      return this.at(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** `p`'s directory, opened, and its name there. */
  at(p: string): At {
    return { fd: this.open(path.dirname(p)).fd, name: path.basename(p), path: p };
  }

  /** A path node:fs resolves through `p`'s opened directory (for copies and reads on the thread pool). */
  pinned(p: string): string {
    const { fd, name } = this.at(p);
    return `${PROC_FD}/${fd}/${name}`;
  }

  /** `pinned(p)`, or undefined where `p`'s directory cannot be opened now. */
  tryPinned(p: string): string | undefined {
    try {
      return this.pinned(p);
    } catch {
      return undefined;
    }
  }

  /** A path node:fs resolves to directory `dir` itself through its open descriptor; undefined where it cannot be opened now. */
  opened(dir: string): string | undefined {
    try {
      return `${PROC_FD}/${this.open(dir).fd}`;
    } catch {
      return undefined;
    }
  }

  /**
   * Closes the least recently used descriptors beyond `maxOpen`. Only where none handed out is in
   * use any more (between two actions): a descriptor, or a /proc path through it, kept across a
   * trim may be closed, and its number reused.
   */
  trim(): void {
    for (const [dir, fd] of this.fds) {
      if (this.fds.size <= this.maxOpen) return;
      fs.closeSync(fd);
      this.fds.delete(dir);
    }
  }

  /** How many descriptors are open (for the tests' bound). */
  get openCount(): number {
    return this.fds.size;
  }

  /** Closes every descriptor (at the end of a batch: none is in use then). */
  release(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
    this.missing.clear();
  }
}
