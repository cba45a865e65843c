import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DedupeFileOps, FaultHook, FileIdentity, FilePerms } from '@filer/engine';
import { LocalFileOps } from './local-file-ops.js';
import { assertResolves } from './local-identity.js';
import { stagingPath } from './stage-copy.js';
import { nativeScan, type NativeScan } from './native-scan.js';
import { reflinkDedupe as builtReflink, type ReflinkDedupe } from './reflink-port.js';
import { unshareCopy } from './unshare-copy.js';

/**
 * The local file operations of a dedupe job: a move's (LocalFileOps), plus owner and mode, the
 * atomic replacement of a copy's name by a link (made at a hidden temporary name beside it, then
 * renamed over it), a link's text, and reflinks through the reflink port.
 */
export class LocalDedupeOps extends LocalFileOps implements DedupeFileOps {
  constructor(
    native: NativeScan | null = nativeScan,
    fault?: FaultHook,
    private readonly reflink: ReflinkDedupe = builtReflink,
  ) {
    super(native, fault);
  }

  perms(p: string): FilePerms | undefined {
    const at = this.dirs?.tryAt(p);
    if (at) {
      const f = this.native!.statAt(at.fd, at.name, false);
      return f === null ? undefined : { mode: f[6], uid: f[7], gid: f[8] };
    }
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    return st && { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
  }

  placeOver(p: string, what: { link: string } | { symlink: string }, tmpTag: string): void {
    if (this.dirs) {
      // Relative to the batch's opened directories: the kept file, the temporary name and the copy
      // are each reached without following a symlink on the way.
      const tmp = stagingPath(p, tmpTag);
      if ('link' in what) this.twoAt('link', what.link, tmp);
      else fs.symlinkSync(what.symlink, this.reach(tmp));
      try {
        this.twoAt('rename', tmp, p);
      } catch (e) {
        this.removeFile(tmp);
        throw e;
      }
      return;
    }
    assertResolves(path.dirname(p));
    const tmp = stagingPath(p, tmpTag);
    if ('link' in what) fs.linkSync(what.link, tmp);
    else fs.symlinkSync(what.symlink, tmp);
    try {
      fs.renameSync(tmp, p);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  readLink(p: string): string | undefined {
    try {
      return fs.readlinkSync(p);
    } catch {
      return undefined;
    }
  }

  reflinkDedupe(kept: string, copy: string): Promise<{ deduped: number }> {
    return this.reflink(kept, copy);
  }

  /** Through the addon whatever the scan uses, as reflinks are. */
  unshare(copy: string, expect: FileIdentity, tmpTag: string): Promise<'unshared' | 'linked'> {
    return unshareCopy(nativeScan, copy, expect, tmpTag);
  }
}
