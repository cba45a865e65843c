import * as fs from 'node:fs';
import * as path from 'node:path';

/** A segment that is empty, '.' or '..' (a '/' then at most two dots, then a '/' or the end). */
export const ODD_SEGMENT = /\/\.{0,2}(?:\/|$)/;

/**
 * Resolves paths the way a job acts on them: the existing part of a path's directory through
 * every symlink, the rest (directories the job will create, and the last name) as written — the
 * last name is never followed, so a job acts on a symlink itself, not on what it points to.
 * Directories are resolved once each. A directory that cannot be resolved (EACCES, ELOOP,
 * ENAMETOOLONG) is kept as written: acting there fails later, per file, with that error.
 */
/** Directories remembered before the cache starts over (a few MB of paths). */
const MAX_CACHED = 32_768;

export class RealPaths {
  private readonly dirs = new Map<string, string>();

  /** The directory, resolved: realpath of its nearest existing ancestor, then the missing rest. */
  /** The last directory asked for and its answer: a plan asks for one directory's files in a row. */
  private lastDir = '';
  private lastReal = '';

  dir(dir: string): string {
    if (dir === this.lastDir && dir !== '') return this.lastReal;
    const real = this.lookup(dir);
    this.lastDir = dir;
    this.lastReal = real;
    return real;
  }

  private lookup(dir: string): string {
    // Keyed by the text as given too: a plan asks for the same few directories once per file.
    let real = this.dirs.get(dir);
    if (real === undefined) {
      const abs = path.resolve(dir);
      real = this.dirs.get(abs) ?? this.resolveDir(abs);
      // A cache, so bounded: a plan of millions of files meets as many directories as it likes.
      if (this.dirs.size >= MAX_CACHED) this.dirs.clear();
      this.dirs.set(abs, real);
      this.dirs.set(dir, real);
    }
    return real;
  }

  /**
   * The path with its directory resolved and its last name as is. A path with an empty, '.' or
   * '..' segment (a template's or a key's doing) is returned as written: resolving would fold it
   * into another path, and the planner refuses it as an invalid name.
   */
  file(p: string): string {
    const abs = path.isAbsolute(p) ? p : process.cwd() + '/' + p;
    if (ODD_SEGMENT.test(abs)) return p;
    const slash = abs.lastIndexOf('/');
    const dir = this.dir(slash === 0 ? '/' : abs.slice(0, slash));
    // Plain string work (no path.join): this runs once per file of a plan, and both parts are clean.
    return (dir === '/' ? '' : dir) + abs.slice(slash);
  }

  /**
   * Top-down, one lstat per directory: the parent is resolved (and cached) first, so only the last
   * name is looked at here. realpath(3) would readlink every component of every directory again
   * (a copy plan resolves two directories per source directory: this was most of its overhead).
   */
  private resolveDir(abs: string, links = 0): string {
    const parent = path.dirname(abs);
    if (parent === abs) return abs;
    const realParent = this.dir(parent);
    const here = (realParent === '/' ? '' : realParent) + '/' + path.basename(abs);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(here, { throwIfNoEntry: false });
    } catch {
      return abs; // EACCES, ENOTDIR, ENAMETOOLONG and the like: kept as written, as above
    }
    if (st === undefined || !st.isSymbolicLink()) return here;
    try {
      return fs.realpathSync.native(here);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A dangling symlink on the way: mkdir would not create below it, but where it leads is
      // where the path points, so that is what a check against a root must see (40: SYMLOOP_MAX).
      if (code !== 'ENOENT') return abs;
      if (links >= 40) return here;
      return this.resolveDir(path.resolve(realParent, fs.readlinkSync(here)), links + 1);
    }
  }
}

/**
 * The first component of `p` that is a symbolic link whose target does not exist (with what it
 * points to), or undefined. Creating below such a link would create its target, wherever that is
 * (GNU cp refuses to write through a dangling link too). Components past the first missing one
 * do not exist, so they are not links.
 */
export function danglingLinkOn(p: string): { link: string; target: string } | undefined {
  const abs = path.resolve(p);
  let at = '/';
  for (const name of abs.split('/').slice(1)) {
    at = path.join(at, name);
    const st = fs.lstatSync(at, { throwIfNoEntry: false });
    if (st === undefined) return undefined;
    if (st.isSymbolicLink() && !fs.existsSync(at)) return { link: at, target: path.resolve(path.dirname(at), fs.readlinkSync(at)) };
  }
  return undefined;
}

/** What `p` names when it is a symbolic link: the real path of the file it leads to (undefined when `p` is not a link). */
export function linkedFile(p: string): string | undefined {
  return fs.lstatSync(p).isSymbolicLink() ? fs.realpathSync.native(p) : undefined;
}
