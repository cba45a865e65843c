import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FileOps } from '@filer/engine';
import { LocalFileOps } from '../local/local-file-ops.js';
import { S3OpError } from './s3-errors.js';
import type { S3Objects } from './s3-objects.js';
import { isS3Uri, parseS3Uri } from './s3-uri.js';

/** Object transfers in flight at once within a batch. */
const TRANSFER_CONCURRENCY = 16;

type Stat = { ino: number; dev: number; size: number; mtimeMs: number };
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
  /** Destination listings taken at plan time: prefix URI → the keys (as URIs) that existed then. */
  private readonly listed = new Map<string, ReadonlySet<string>>();
  /** What this instance wrote and verified, for the stat that records it in the journal. */
  private readonly written = new Map<string, Stat>();

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
   * such a put whatever this says.
   */
  useListing(prefix: string, existing: ReadonlySet<string>): void {
    this.listed.set(prefix, existing);
  }

  private listedAbsent(p: string): boolean {
    for (const [prefix, existing] of this.listed) if (p.startsWith(prefix)) return !existing.has(p);
    return false;
  }

  async stat(p: string): Promise<Stat | undefined> {
    if (!isS3Uri(p)) return this.local.stat(p);
    const mine = this.written.get(p);
    if (mine !== undefined) {
      this.written.delete(p);
      return mine;
    }
    if (this.listedAbsent(p)) return undefined;
    const info = await this.objects.head(loc(p));
    // An object has no inode: 0, and a device number no file system uses.
    return info && { ino: 0, dev: -1, size: info.size, mtimeMs: info.mtimeMs };
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

  async stageMany(
    items: readonly { source: string; target: string; overwrite?: boolean }[],
    tmpTag: string,
    opts: { durable?: boolean } = {},
  ): Promise<(string | Error)[]> {
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
          out[i] = await this.stageOne(items[i].source, items[i].target, items[i].overwrite === true, tmpTag);
        } catch (e) {
          out[i] = e as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(TRANSFER_CONCURRENCY, remote.length) }, worker));
    return out;
  }

  private async stageOne(source: string, target: string, overwrite: boolean, tmpTag: string): Promise<string> {
    if (isS3Uri(target)) {
      const headGuard = this.options.headGuard !== false || !this.listedAbsent(target);
      const info = isS3Uri(source)
        ? await this.objects.copy(loc(source), loc(target), overwrite)
        : await this.objects.upload(source, loc(target), overwrite, { headGuard });
      // The verifying HEAD's answer: the apply's stat of the target need not ask again.
      this.written.set(target, { ino: 0, dev: -1, size: info.size, mtimeMs: info.mtimeMs });
      return target; // in place already: S3 has no rename
    }
    const tmp = this.tempPath(target, tmpTag);
    await this.objects.download(loc(source), tmp);
    return tmp;
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

  async move(source: string, target: string, opts: { overwrite: boolean; verify: boolean; tmpTag: string }): Promise<void> {
    if (!isS3Uri(source) && !isS3Uri(target)) return this.local.move(source, target, opts);
    const [tmp] = await this.stageMany([{ source, target, overwrite: opts.overwrite }], opts.tmpTag);
    if (tmp instanceof Error) throw tmp;
    this.flushFiles([tmp]);
    await this.commit(tmp, source, target, opts);
    if (!isS3Uri(target)) this.flushDirs([path.dirname(target)]);
    await this.unlink(source);
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

  async unlink(p: string): Promise<void> {
    if (isS3Uri(p)) {
      this.written.delete(p);
      await this.objects.delete(loc(p));
    } else this.local.unlink(p);
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

  /** The same hidden name beside the target as LocalFileOps uses, so resume finds either. */
  private tempPath(target: string, tmpTag: string): string {
    return path.join(path.dirname(target), `.${path.basename(target)}.${tmpTag}.tmp`);
  }
}
