import * as fs from 'node:fs';
import { KindCode, type DirListing, type EntryKind, type EntryStat, type SourceFailure } from '@filer/core';
import { childPath, type RecordLister, type SyncSource } from '@filer/engine';
import { nativeListDir, nativeListRecords, nativeScan, nativeStatMany } from './native-scan.js';

function direntKind(d: fs.Dirent): KindCode {
  if (d.isFile()) return KindCode.File;
  if (d.isDirectory()) return KindCode.Dir;
  if (d.isSymbolicLink()) return KindCode.Symlink;
  // DT_UNKNOWN (some file systems) reports nothing; anything else is a fifo, socket or device.
  return d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice() ? KindCode.Other : KindCode.Unknown;
}

function statKind(st: fs.Stats): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

function failure(e: unknown): SourceFailure {
  const err = e as NodeJS.ErrnoException;
  return { error: { code: err.code ?? 'EIO', message: err.message } };
}

/** Text files larger than this are not read as ignore files (a guard against a huge stray file). */
const MAX_IGNORE_FILE_BYTES = 1 << 20;

/**
 * The local file system, answered synchronously: each walker thread owns one and blocking calls
 * are far cheaper than a promise per entry. Names come from readdir's d_type, so listing needs
 * no stat at all. Uses the native scanner when it was built, node:fs otherwise (same results).
 */
export class LocalSource implements SyncSource {
  constructor(private readonly native = nativeScan) {}

  /**
   * Whole directories as records, filtered natively, when the native scanner is in use (the walker's
   * fast path for find's text output; named for its first format, ndjson).
   */
  get ndjsonLister(): RecordLister | undefined {
    const native = this.native;
    return native ? (dir, hidden, wantDirs, query) => nativeListRecords(native, dir, hidden, wantDirs, query) : undefined;
  }

  listDir(dirPath: string): DirListing {
    if (this.native) return nativeListDir(this.native, dirPath);
    const dirents = fs.readdirSync(dirPath, { withFileTypes: true });
    const names = new Array<string>(dirents.length);
    const kinds = new Uint8Array(dirents.length);
    for (let i = 0; i < dirents.length; i++) {
      names[i] = dirents[i].name;
      kinds[i] = direntKind(dirents[i]);
    }
    return { names, kinds };
  }

  statMany(dirPath: string, names: readonly string[], follow: boolean, precise = false): (EntryStat | SourceFailure)[] {
    if (this.native) return nativeStatMany(this.native, dirPath, names, follow, precise);
    const out = new Array<EntryStat | SourceFailure>(names.length);
    for (let i = 0; i < names.length; i++) {
      const p = childPath(dirPath, names[i]);
      try {
        if (precise) {
          const st = follow ? fs.statSync(p, { bigint: true }) : fs.lstatSync(p, { bigint: true });
          const ns = st.mtimeNs;
          out[i] = {
            kind: statKind(st as unknown as fs.Stats),
            size: Number(st.size),
            mtimeMs: Number(st.mtimeMs),
            dev: Number(st.dev),
            ino: Number(st.ino),
            mtimeSec: Number(ns / 1_000_000_000n),
            mtimeNsec: Number(ns % 1_000_000_000n),
          };
          continue;
        }
        const st = follow ? fs.statSync(p) : fs.lstatSync(p);
        out[i] = { kind: statKind(st), size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino };
      } catch (e) {
        out[i] = failure(e);
      }
    }
    return out;
  }

  readText(filePath: string): string | undefined {
    try {
      const st = fs.statSync(filePath);
      if (!st.isFile() || st.size > MAX_IGNORE_FILE_BYTES) return undefined;
      return fs.readFileSync(filePath, 'utf8');
    } catch {
      return undefined;
    }
  }

  join(dirPath: string, name: string): string {
    return childPath(dirPath, name);
  }
}
