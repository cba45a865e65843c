import * as fs from 'node:fs';
import * as path from 'node:path';
import { FilerError } from '@filer/core';
import { describeIdentity, type FileIdentity, type FileStat } from '@filer/engine';
import { pathChangedError } from './dir-handles.js';

// Local files' identities (device, inode, size, mtime in ns) as the journal compares them, and the
// errors that say a file or a directory on its path is not what the job expected there.

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

/** The identity of what `p` names (a link itself, not what it leads to), or undefined where nothing is. */
export function lstatId(p: string): FileStat | undefined {
  const st = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
  return st && identityOfStat(st);
}

/** The identity of the addon's statAt fields ([kind, size, dev, ino, mtimeSec, mtimeNsec]). */
export function identityOfAt(f: Float64Array): FileStat {
  const id: FileStat = { dev: f[2], ino: f[3], size: f[1], mtimeNs: (BigInt(f[4]) * 1_000_000_000n + BigInt(f[5])).toString() };
  if (f[0] === 3) id.symlink = true;
  return id;
}

/** The one-directory answer of movedDirs: E_PATH_CHANGED when `dir` (or its nearest existing ancestor) no longer resolves to itself. */
export function assertResolves(dir: string): void {
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
