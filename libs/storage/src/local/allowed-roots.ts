import * as fs from 'node:fs';
import * as path from 'node:path';
import { FilerError } from '@filer/core';

/** Longest path accepted from a request (Linux PATH_MAX). */
const MAX_PATH = 4096;

/** The configured roots, resolved once: a symlinked allowed root means its target. */
export function resolveAllowedRoots(roots: readonly string[]): string[] {
  return roots.map((r) => {
    try {
      return fs.realpathSync(r);
    } catch (e) {
      throw new FilerError('E_ROOT_NOT_FOUND', `allowed root '${r}' does not exist (${(e as NodeJS.ErrnoException).code})`, { path: r });
    }
  });
}

/** Whether a resolved path is one of the allowed roots or lies below one. */
export function isInsideRoots(real: string, allowed: readonly string[]): boolean {
  return allowed.some((root) => real === root || real.startsWith(root === '/' ? '/' : root + '/'));
}

function refuse(field: string, value: string, why: string): FilerError {
  return new FilerError('E_PATH_NOT_ALLOWED', `${field} '${value.slice(0, 200)}' ${why}`, {
    field,
    value: value.slice(0, 200),
    path: value.slice(0, 200),
  });
}

/**
 * Admits a path from a request only when it is absolute, clean, and — after every symlink is
 * resolved — inside one of the allowed roots. Returns the resolved path, which is what the job
 * then uses, so a symlink swapped later cannot lead a worker out. `mustExist: false` (a
 * destination) resolves the nearest existing ancestor instead and checks that.
 */
export function admitPath(p: string, allowed: readonly string[], field: string, opts: { mustExist?: boolean } = {}): string {
  if (typeof p !== 'string' || p === '') throw refuse(field, String(p), 'is empty');
  if (p.length > MAX_PATH) throw refuse(field, p, `is longer than ${MAX_PATH} characters`);
  if (p.includes('\0')) throw refuse(field, p.replace(/\0/g, '\\0'), 'contains a NUL byte');
  if (!path.isAbsolute(p)) throw refuse(field, p, 'must be an absolute path');
  if (p.split('/').includes('..')) throw refuse(field, p, "must not contain '..' segments");
  let real: string;
  try {
    real = fs.realpathSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (opts.mustExist !== false || code !== 'ENOENT') {
      // Whether a path outside the roots exists is not the caller's business: one answer for both.
      if (!isInsideRoots(path.resolve(p), allowed)) throw refuse(field, p, 'is not inside an allowed root');
      throw new FilerError('E_ROOT_NOT_FOUND', `${field} '${p}' does not exist`, { field, value: p, path: p });
    }
    // A dangling symlink: mkdir would refuse it, but a job resolving the path follows it to where it
    // points, which may be anywhere; where it points does not exist, so it is refused whatever it is.
    // (lstat without the trailing slashes, which would make it follow the link.)
    if (fs.lstatSync(p.replace(/(?<=.)\/+$/, ''), { throwIfNoEntry: false })?.isSymbolicLink())
      throw refuse(
        field,
        p,
        isInsideRoots(p, allowed) ? 'is a symbolic link to a path that does not exist' : 'is not inside an allowed root',
      );
    const parent = admitPath(path.dirname(p), allowed, field, { mustExist: false });
    real = path.join(parent, path.basename(p));
  }
  if (!isInsideRoots(real, allowed))
    throw refuse(field, p, real === p ? 'is not inside an allowed root' : 'resolves (through a symlink) outside the allowed roots');
  return real;
}

/** Admits a job's root: `admitPath`, and the resolved path must be a directory. */
export function admitRootDir(p: string, allowed: readonly string[], field: string): string {
  const real = admitPath(p, allowed, field);
  if (!fs.statSync(real).isDirectory())
    throw new FilerError('E_ROOT_NOT_DIRECTORY', `${field} '${p}' is not a directory`, { field, value: p, path: p });
  return real;
}
