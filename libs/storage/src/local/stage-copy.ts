import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { FilerError } from '@filer/core';
import { sameVersion, type FaultHook, type FileIdentity } from '@filer/engine';
import { flushData, VerifyError } from './file-bytes.js';
import { changedError, identityOfStat } from './local-identity.js';
import type { NativeScan } from './native-scan.js';

// A copy staged under a hidden name beside its target, before it is linked into place
// (LocalFileOps.stageMany).

/**
 * Staged files this large are written back at once (fdatasync on the thread pool; natively, their
 * writeback starts chunk by chunk during the copy) while the next copies run, so the batch's final
 * syncfs has little left to wait for; smaller ones are left to that one syncfs, since a flush per
 * file would cost a journal commit each.
 */
const EARLY_FLUSH_BYTES = 8 << 20;

/** Longest name a directory entry may have (Linux NAME_MAX). */
const NAME_MAX = 255;

/**
 * A hidden name beside the target, unique to the job and to the target: resume finds and removes
 * it. `.NAME.TAG.tmp` where that fits in a name; for a long NAME a digest of it stands in its
 * place, so a file whose own name is near NAME_MAX can still be staged.
 */
export function stagingPath(target: string, tmpTag: string): string {
  const base = path.basename(target);
  let name = `.${base}.${tmpTag}.tmp`;
  if (Buffer.byteLength(name) > NAME_MAX) name = `.${createHash('sha256').update(base).digest('hex').slice(0, 32)}.${tmpTag}.tmp`;
  return path.join(path.dirname(target), name);
}

/**
 * Copies `source` to the new file `tmp` (both as reachable now): checked against `expect` before and
 * after the copy, its mtime kept, its size checked, and with `durable` a large one flushed early.
 * On failure `tmp` is removed.
 */
export async function stageAt(
  source: string,
  tmp: string,
  expect: FileIdentity | undefined,
  durable: boolean,
  native: NativeScan | null,
  fault: FaultHook | undefined,
): Promise<void> {
  try {
    // What a source link leads to is copied (copy -L); the link is checked like any file.
    const named = await fsp.lstat(source, { bigint: true });
    const src = named.isSymbolicLink() ? await fsp.stat(source, { bigint: true }) : named;
    // The source is checked before and after its copy: a write meanwhile would leave a torn copy.
    if (expect !== undefined && !sameVersion(identityOfStat(src), expect)) throw changedError(source, expect, identityOfStat(src));
    if (!src.isFile()) throw new FilerError('E_NOT_FILE', `${source} is not a regular file`, { path: source });
    const early = durable && Number(src.size) >= EARLY_FLUSH_BYTES;
    if (fault !== undefined) await copyHalfThenFault(source, tmp, fault);
    // Natively, a large file's writeback starts chunk by chunk while it is copied.
    if (native) await native.copyStaged(source, tmp, early);
    else await fsp.copyFile(source, tmp, fs.constants.COPYFILE_EXCL);
    const after = identityOfStat(await (named.isSymbolicLink() ? fsp.stat : fsp.lstat)(source, { bigint: true }));
    if (!sameVersion(after, identityOfStat(src))) throw changedError(source, identityOfStat(src), after, 'changed while it was copied');
    const mtime = new Date(Number(src.mtimeMs));
    await fsp.utimes(tmp, new Date(Number(src.atimeMs)), mtime);
    if ((await fsp.stat(tmp)).size !== Number(src.size)) throw new VerifyError(`copy of ${source} has the wrong size`);
    if (early && !native) await flushData(tmp);
  } catch (e) {
    await fsp.rm(tmp, { force: true }); // never leave a partial file behind, under any name
    throw e;
  }
}

/**
 * For the `mid-copy` fault: writes the first half of `source` to `tmp` (flushed), then calls the
 * hook, which kills the process when armed; otherwise the half copy is dropped and the copy runs.
 */
async function copyHalfThenFault(source: string, tmp: string, fault: FaultHook): Promise<void> {
  const size = (await fsp.stat(source)).size;
  const data = Buffer.alloc(Math.floor(size / 2));
  const src = await fsp.open(source, 'r');
  try {
    await src.read(data, 0, data.length, 0);
  } finally {
    await src.close();
  }
  const out = await fsp.open(tmp, 'wx');
  try {
    await out.write(data);
    await out.datasync();
  } finally {
    await out.close();
  }
  fault('mid-copy');
  await fsp.rm(tmp, { force: true });
}
