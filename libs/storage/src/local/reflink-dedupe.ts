import * as fsp from 'node:fs/promises';
import { FilerError } from '@filer/core';
import { nativeScan, type NativeScan } from './native-scan.js';

// `filer dupes --action reflink`'s primitive: a copy's extents shared with the kept file's through
// the kernel's compare-and-share ioctl (FIDEDUPERANGE, the addon's dedupeRange), which compares the
// bytes itself under both files' locks: a copy that changed after it was hashed is never touched
// (fclones#293, where a clone that trusted the hash overwrote one).

/**
 * Shares `copy`'s extents with `kept`'s (Linux, a file system with reflinks: XFS made with
 * reflink=1, btrfs): afterwards both name the same blocks and the copy's own are freed. Neither
 * file's bytes, inode or mtime change. Resolves with the bytes shared (the size; 0 for empty files).
 * Throws FilerErrors: `E_UNSUPPORTED` (the file system cannot, or the native addon is off or not
 * built: nothing done), `E_CHANGED` (the bytes or sizes differ: not duplicates any more),
 * `E_NOT_FILE` (either is not a regular file, a symlink included: never followed), `E_CONFLICT`
 * (both name one inode); any other failure is the errno error itself (code, syscall, path), as
 * node:fs throws it.
 */
export function reflinkDedupe(kept: string, copy: string): Promise<{ deduped: number }> {
  return reflinkDedupeWith(nativeScan, kept, copy);
}

/** reflinkDedupe through the given addon (null: as where it is off or not built). */
export async function reflinkDedupeWith(native: NativeScan | null, kept: string, copy: string): Promise<{ deduped: number }> {
  if (native === null) {
    const why = process.env.FILER_FS_SCAN_ADDON === 'off' ? 'disabled here (FILER_FS_SCAN_ADDON=off)' : 'not built here';
    throw new FilerError('E_UNSUPPORTED', `${copy}: reflink needs the native addon (@filer/fs-scan), which is ${why}; nothing done`, {
      path: copy,
    });
  }
  let r;
  try {
    r = await native.dedupeRange(kept, copy);
  } catch (e) {
    throw await symlinkRefused(e);
  }
  switch (r.status) {
    case 'same':
      return { deduped: r.deduped };
    case 'unsupported':
      throw new FilerError(
        'E_UNSUPPORTED',
        `${copy}: its file system cannot share extents with ${kept} (FIDEDUPERANGE: ${r.code})${sharedBefore(r.deduped)}; nothing done`,
        { path: copy },
      );
    case 'differs':
      throw new FilerError(
        'E_CHANGED',
        `${copy} and ${kept} differ (in the ${r.offset === 0 ? 'first' : `bytes from ${r.offset}`}): not duplicates any more; neither changed${sharedBefore(r.deduped)}`,
        { path: copy },
      );
    case 'sizes':
      throw new FilerError('E_CHANGED', `${copy} has ${r.destSize} bytes, ${kept} ${r.srcSize}: not duplicates any more; nothing done`, {
        path: copy,
      });
    case 'not-file':
      throw new FilerError('E_NOT_FILE', `${r.path} is not a regular file: nothing deduplicated`, { path: r.path });
    case 'one-file':
      throw new FilerError('E_CONFLICT', `${copy} and ${kept} are one file (the same inode): nothing to share`, { path: copy });
  }
}

/** What a deduplication that stopped part way leaves shared (equal bytes, so no file changed). */
function sharedBefore(deduped: number): string {
  return deduped > 0 ? ` (the ${deduped} bytes before that, equal in both, now share extents)` : '';
}

/** E_NOT_FILE for an open refused because the name is a symlink (O_NOFOLLOW's ELOOP); else the error as it was. */
async function symlinkRefused(e: unknown): Promise<unknown> {
  const err = e as NodeJS.ErrnoException;
  if (err.code !== 'ELOOP' || err.syscall !== 'open' || err.path === undefined) return e;
  const st = await fsp.lstat(err.path).catch(() => undefined);
  if (!st?.isSymbolicLink()) return e;
  return new FilerError('E_NOT_FILE', `${err.path} is a symbolic link, which reflink never follows: nothing deduplicated`, {
    path: err.path,
    cause: e,
  });
}
