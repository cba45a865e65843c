import * as fs from 'node:fs';
import * as path from 'node:path';
import { FilerError } from '@filer/core';
import { sameVersion, type FileIdentity } from '@filer/engine';
import { fsyncDir } from './file-bytes.js';
import { assertResolves, changedError, lstatId } from './local-identity.js';
import type { NativeScan } from './native-scan.js';
import { stagingPath } from './stage-copy.js';

/**
 * Gives `copy` extents of its own again (the undo of a reflink): its bytes are read and written to
 * a hidden temporary name beside it (the addon's copyUnshared: never copy_file_range, which would
 * share them again), with its owner, group, mode and mtime to the nanosecond, made durable; then,
 * only while `copy` is still `expect` (as the job left it), renamed over it. The bytes are the
 * copy's own, so the name never holds other bytes than it did. Needs the addon (as reflinks do).
 * 'linked' (nothing done) for a copy with other hard links.
 */
export async function unshareCopy(
  native: NativeScan | null,
  copy: string,
  expect: FileIdentity,
  tmpTag: string,
): Promise<'unshared' | 'linked'> {
  if (native === null)
    throw new FilerError('E_UNSUPPORTED', `${copy}: undoing a reflink needs the native addon (@filer/fs-scan); nothing done`, {
      path: copy,
    });
  assertResolves(path.dirname(copy));
  // A new inode under this name would split it from its other names (hard links the job never
  // touched): such a copy is left as it is, sharing extents, its inode and bytes as before.
  if ((fs.lstatSync(copy, { throwIfNoEntry: false })?.nlink ?? 1) > 1) return 'linked';
  const tmp = stagingPath(copy, tmpTag);
  await native.copyUnshared(copy, tmp);
  try {
    const made = lstatId(tmp);
    if (made === undefined || made.size !== expect.size || made.mtimeNs !== expect.mtimeNs)
      throw changedError(copy, expect, made, 'was not copied as it is (the fresh copy has another size or mtime)');
    const now = lstatId(copy);
    if (now === undefined || !sameVersion(now, expect)) throw changedError(copy, expect, now, 'changed while it was rewritten');
    fs.renameSync(tmp, copy);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(copy));
  return 'unshared';
}
