import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { mtimeNsOf, OBJECT_DEV, sameVersion, type FileIdentity, type FileOps, type FileStat, type StageItem } from '@filer/engine';
import { changedError, LocalFileOps, stagingPath } from '../local/local-file-ops.js';
import { S3OpError } from './s3-errors.js';
import type { KeyListing } from '../batch-sink.js';
import type { S3Objects } from './s3-objects.js';
import { isS3Uri, parseS3Uri } from './s3-uri.js';

/** Object transfers in flight at once within a batch. */
const TRANSFER_CONCURRENCY = 16;

/** An object's identity: no device or inode; LastModified to the second (HEAD's precision), ETag. */
export function objectIdentity(info: { size: number; mtimeMs: number; etag?: string }): FileStat {
  const id: FileStat = { dev: OBJECT_DEV, ino: 0, size: info.size, mtimeNs: mtimeNsOf(Math.floor(info.mtimeMs / 1000), 0) };
  if (info.etag !== undefined) id.etag = info.etag;
  return id;
}

const loc = (p: string): ReturnType<typeof parseS3Uri> => parseS3Uri(p, 'path');

async function sha256OfStream(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * File operations over local paths and `s3://` URIs, dispatched per path: local ↔ local goes to
 * LocalFileOps unchanged. S3 has no rename, so an S3 target is written once under its final key:
 * a no-overwrite put (If-None-Match, or a HEAD check just before), verified by size and ETag,
 * and "staging" returns the final key itself (a failed put leaves nothing, a put that does not
 * verify is deleted). An S3 source reaching a local target is downloaded to a temporary name
 * beside it and then committed as a local copy is (link into place, no overwrite). A move removes
 * its source only after the target verified: applyJob deletes sources last.
 */
export class S3FileOps implements FileOps {
  /** Destination listings taken at plan time: prefix URI → the keys (as URIs) that existed then, and those put since. */
  private readonly listed = new Map<string, KeyListing>();
  /** What this instance wrote and verified, for the stat that records it in the journal. */
  private readonly written = new Map<string, FileStat>();

  constructor(
    private readonly objects: S3Objects,
    private readonly local = new LocalFileOps(),
    private readonly options: { headGuard?: boolean } = {},
  ) {}

  /**
   * Takes the planner's listing of a destination prefix as what is there: `stat` of a key under
   * `prefix` that was not listed answers "absent" without a request, and (unless `headGuard`) no
   * HEAD precedes its put on a bucket that ignores `If-None-Match` — an object written there by
   * someone else after the listing can then be replaced. Buckets that honour the condition refuse
   * such a put whatever this says. The listing may be a Set or a plan store's table (the CLI's:
   * a listing of any size held on disk); keys put here are added to it.
   */
  useListing(prefix: string, existing: KeyListing): void {
    this.listed.set(prefix, existing);
  }

  private listingOf(p: string): KeyListing | undefined {
    for (const [prefix, existing] of this.listed) if (p.startsWith(prefix)) return existing;
    return undefined;
  }

  private listedAbsent(p: string): boolean {
    return this.listingOf(p)?.has(p) === false;
  }

  /** The local side's directory descriptors, opened for the batch. */
  release(): void {
    this.local.release();
  }

  async stat(p: string, follow = false): Promise<FileStat | undefined> {
    if (!isS3Uri(p)) return this.local.stat(p, follow);
    const mine = this.written.get(p);
    if (mine !== undefined) {
      this.written.delete(p);
      return mine;
    }
    if (this.listedAbsent(p)) return undefined;
    const info = await this.objects.head(loc(p));
    return info && objectIdentity(info);
  }

  movedDirs(dirs: readonly string[]): ReadonlySet<string> {
    return this.local.movedDirs(dirs.filter((d) => !isS3Uri(d)));
  }

  missingParents(p: string): string[] {
    return isS3Uri(p) ? [] : this.local.missingParents(p);
  }

  ensureParent(p: string): string[] {
    return isS3Uri(p) ? [] : this.local.ensureParent(p);
  }

  link(source: string, target: string): boolean {
    return isS3Uri(source) || isS3Uri(target) ? false : this.local.link(source, target);
  }

  replace(source: string, target: string): boolean {
    return isS3Uri(source) || isS3Uri(target) ? false : this.local.replace(source, target);
  }

  needsCopy(source: string, target: string): boolean {
    if (isS3Uri(source) || isS3Uri(target)) return true;
    const s = this.local.stat(source);
    let dir = path.dirname(target);
    while (!fs.existsSync(dir)) dir = path.dirname(dir);
    return s !== undefined && fs.statSync(dir).dev !== s.dev;
  }

  async stageMany(items: readonly StageItem[], tmpTag: string, opts: { durable?: boolean } = {}): Promise<(string | Error)[]> {
    const out = new Array<string | Error>(items.length);
    const localOnly: number[] = [];
    const remote: number[] = [];
    items.forEach((it, i) => (isS3Uri(it.source) || isS3Uri(it.target) ? remote : localOnly).push(i));
    if (localOnly.length > 0) {
      const staged = await this.local.stageMany(
        localOnly.map((i) => items[i]),
        tmpTag,
        opts,
      );
      staged.forEach((r, k) => (out[localOnly[k]] = r));
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < remote.length) {
        const i = remote[next++];
        try {
          out[i] = await this.stageOne(items[i], tmpTag);
        } catch (e) {
          out[i] = e as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(TRANSFER_CONCURRENCY, remote.length) }, worker));
    return out;
  }

  private async stageOne({ source, target, overwrite = false, expect }: StageItem, tmpTag: string): Promise<string> {
    if (isS3Uri(target)) {
      const headGuard = this.options.headGuard !== false || !this.listedAbsent(target);
      let info;
      if (isS3Uri(source)) info = await this.objects.copy(loc(source), loc(target), overwrite, expect);
      else {
        // A local source is checked before and after its upload, as a local copy's is.
        this.checkLocal(source, expect);
        info = await this.objects.upload(source, loc(target), overwrite, { headGuard });
        try {
          this.checkLocal(source, expect, 'changed while it was uploaded');
        } catch (e) {
          await this.objects.delete(loc(target));
          throw e;
        }
      }
      // The verifying HEAD's answer: the apply's stat of the target need not ask again.
      this.written.set(target, objectIdentity(info));
      // A move stats its target again once the source is gone (the journal's identity of it): the
      // object is there now, although the plan's listing did not have it.
      this.listingOf(target)?.add(target);
      return target; // in place already: S3 has no rename
    }
    const tmp = this.tempPath(target, tmpTag);
    await this.objects.download(loc(source), tmp, expect);
    return tmp;
  }

  private checkLocal(file: string, expect: FileIdentity | undefined, what?: string): void {
    if (expect === undefined) return;
    const named = this.local.stat(file);
    const now = named?.symlink ? this.local.stat(file, true) : named;
    if (now === undefined || !sameVersion(now, expect)) throw changedError(file, expect, now, what);
  }

  flushFiles(paths: readonly string[]): void {
    this.local.flushFiles(paths.filter((p) => !isS3Uri(p)));
  }

  async commit(tmp: string, source: string, target: string, opts: { overwrite: boolean; verify: boolean }): Promise<void> {
    if (!isS3Uri(source) && !isS3Uri(target)) return this.local.commit(tmp, source, target, opts);
    if (isS3Uri(target)) {
      // Uploaded and checked by ETag already; --verify reads the object back as well.
      if (opts.verify && (await this.sha256(source)) !== (await this.sha256(target))) {
        this.written.delete(target);
        await this.objects.delete(loc(target));
        throw new S3OpError('E_VERIFY', `copy of ${source} at ${target} differs from it`);
      }
      return;
    }
    try {
      if (opts.verify && (await this.sha256(tmp)) !== (await this.sha256(source)))
        throw new S3OpError('E_VERIFY', `copy of ${source} differs from it`);
      if (opts.overwrite) fs.renameSync(tmp, target);
      else fs.linkSync(tmp, target);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  flushDirs(dirs: readonly string[]): void {
    this.local.flushDirs(dirs.filter((d) => !isS3Uri(d)));
  }

  async move(
    source: string,
    target: string,
    opts: { overwrite: boolean; verify: boolean; tmpTag: string; expect: FileIdentity },
  ): Promise<void> {
    if (!isS3Uri(source) && !isS3Uri(target)) return this.local.move(source, target, opts);
    const [tmp] = await this.stageMany([{ source, target, overwrite: opts.overwrite, expect: opts.expect }], opts.tmpTag);
    if (tmp instanceof Error) throw tmp;
    this.flushFiles([tmp]);
    await this.commit(tmp, source, target, opts);
    if (!isS3Uri(target)) this.flushDirs([path.dirname(target)]);
    await this.unlinkIf(source, opts.expect, 'version');
  }

  async sameContent(a: string, b: string): Promise<boolean> {
    if (!isS3Uri(a) && !isS3Uri(b)) return this.local.sameContent(a, b);
    const [sa, sb] = await Promise.all([this.stat(a), this.stat(b)]);
    if (sa === undefined || sb === undefined || sa.size !== sb.size) return false;
    return (await this.sha256(a)) === (await this.sha256(b));
  }

  private async sha256(p: string): Promise<string> {
    return sha256OfStream(isS3Uri(p) ? await this.objects.read(loc(p)) : fs.createReadStream(p));
  }

  /** An object goes only while a HEAD right before its DELETE finds the version expected (S3 has no conditional DELETE). */
  async unlinkIf(p: string, expected: FileIdentity, match: 'inode' | 'version'): Promise<void> {
    if (!isS3Uri(p)) return this.local.unlinkIf(p, expected, match);
    this.written.delete(p);
    const info = await this.objects.head(loc(p));
    const found = info && objectIdentity(info);
    if (found === undefined || !sameVersion(found, expected)) throw changedError(p, expected, found, 'changed since it was copied');
    await this.objects.delete(loc(p));
  }

  removeEmptyDir(p: string): boolean {
    return isS3Uri(p) ? true : this.local.removeEmptyDir(p);
  }

  removeTemps(target: string, tmpTag: string): void {
    if (!isS3Uri(target)) this.local.removeTemps(target, tmpTag);
  }

  freeBytes(p: string): number {
    return isS3Uri(p) ? Number.MAX_SAFE_INTEGER : this.local.freeBytes(p);
  }

  freeInodes(p: string): number | undefined {
    return isS3Uri(p) ? undefined : this.local.freeInodes(p);
  }

  /** The same hidden name beside the target as LocalFileOps uses, so resume finds either. */
  private tempPath(target: string, tmpTag: string): string {
    return stagingPath(target, tmpTag);
  }
}
