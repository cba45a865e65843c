import * as fs from 'node:fs';
import * as path from 'node:path';
import { FilerError } from '@filer/core';

/** The resolved path (realpath) of an existing directory named by flag `field`; E_ROOT_NOT_FOUND or E_ROOT_NOT_DIRECTORY otherwise. */
export function realDir(p: string, field: string): string {
  let real: string;
  try {
    real = fs.realpathSync.native(p);
  } catch {
    throw new FilerError('E_ROOT_NOT_FOUND', `${field} ${p}: no such directory`, { field, value: p, path: p });
  }
  if (!fs.statSync(real).isDirectory())
    throw new FilerError('E_ROOT_NOT_DIRECTORY', `${field} ${p}: not a directory`, { field, value: p, path: p });
  return real;
}

/** A destination directory, resolved: an existing one, or a new one whose parent exists (the job makes it). */
export function resolveDestDir(dir: string, field: string): string {
  const abs = path.resolve(dir);
  if (fs.existsSync(abs)) return realDir(abs, field);
  return path.join(realDir(path.dirname(abs), field), path.basename(abs));
}
