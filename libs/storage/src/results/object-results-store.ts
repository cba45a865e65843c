import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { linesOf } from './lines-of.js';
import { partRecordBytes, type PartBytes, type RecordRange } from './part-bytes.js';
import { PartWriter } from './part-writer.js';
import type { RecordCopies, RevisedRecord } from './record-files.js';
import type { ResultObjects } from './result-objects.js';
import { writeWholePart, type JournalFile, type ResultPart, type ResultsStore } from './results-store.js';

const PART_EXT = '.ndjson';

/**
 * Results as objects under a prefix (S3), the same layout as a results directory:
 * `<job>/<kind>/<part>.ndjson`, `<job>/journal/<part>.db`, `<job>/record.json`. A worker writes a
 * part to a temporary file in its own scratch directory and uploads it whole when it is finished
 * (one PUT, or a multipart upload above 16 MiB), so a part is visible whole or not at all, and a
 * retried shard's upload replaces it. Readers stream GET bodies; nothing is shared but the bucket.
 */
export class ObjectResultsStore implements ResultsStore {
  constructor(
    private readonly objects: () => Promise<ResultObjects>,
    /** This process's scratch directory (temporary parts, journals in use); not shared. */
    private readonly scratch: string,
    readonly location: string,
  ) {}

  private partKey(jobId: string, kind: string, part: string): string {
    return `${jobId}/${kind}/${part}${PART_EXT}`;
  }

  private scratchFile(name: string): string {
    fs.mkdirSync(this.scratch, { recursive: true });
    return path.join(this.scratch, `${process.pid}.${randomBytes(6).toString('hex')}.${name}`);
  }

  async openPart(jobId: string, kind: string, part: string): Promise<ResultPart> {
    const objects = await this.objects();
    const file = this.scratchFile(`${part}${PART_EXT}`);
    const w = new PartWriter(file);
    return {
      write: (text) => w.write(text),
      commit: async () => {
        w.commit();
        try {
          await objects.putFile(this.partKey(jobId, kind, part), file);
        } finally {
          fs.rmSync(file, { force: true });
        }
      },
      abort: async () => {
        w.abort();
        fs.rmSync(file, { force: true });
      },
    };
  }

  async writePart(jobId: string, kind: string, part: string, lines: readonly string[]): Promise<void> {
    await writeWholePart(await this.openPart(jobId, kind, part), lines);
  }

  private async *partObjects(jobId: string, kind: string): AsyncGenerator<{ key: string; etag: string; name: string }> {
    const objects = await this.objects();
    const prefix = `${jobId}/${kind}/`;
    for await (const o of objects.list(prefix)) {
      const name = o.key.slice(prefix.length);
      // Only the parts of this kind: not a deeper key, not another extension.
      if (name.endsWith(PART_EXT) && !name.includes('/')) yield { ...o, name: name.slice(0, -PART_EXT.length) };
    }
  }

  async listParts(jobId: string, kind: string): Promise<string[]> {
    const names: string[] = [];
    for await (const o of this.partObjects(jobId, kind)) names.push(o.name);
    return names.sort();
  }

  async *lines(jobId: string, kind: string): AsyncGenerator<string> {
    const objects = await this.objects();
    for (const part of await this.listParts(jobId, kind)) {
      // Listed a moment ago: one removed since (a job being deleted) ends the lines, as a directory read would.
      const body = await objects.read(this.partKey(jobId, kind, part));
      if (body !== undefined) yield* linesOf(body);
    }
  }

  /** Throws ENOENT when the part is missing, as the directory does (a shard's input that a retry may yet find). */
  async *partLines(jobId: string, kind: string, part: string): AsyncGenerator<string> {
    const key = this.partKey(jobId, kind, part);
    const body = await (await this.objects()).read(key);
    if (body === undefined) throw Object.assign(new Error(`ENOENT: no part ${this.location}${key}`), { code: 'ENOENT', path: key });
    yield* linesOf(body);
  }

  async *records(jobId: string, kind: string, range: RecordRange): AsyncGenerator<Buffer> {
    const objects = await this.objects();
    const parts: PartBytes[] = [];
    for await (const o of this.partObjects(jobId, kind)) {
      parts.push({
        // An object replaced by a retried shard has another ETag, so a cached count never outlives its bytes.
        versionKey: async () => `${objects.location}${o.key}\0${o.etag}`,
        chunks: async function* () {
          const body = await objects.read(o.key);
          if (body !== undefined) for await (const chunk of body) yield chunk as Buffer;
        },
      });
    }
    yield* partRecordBytes(parts, range);
  }

  /**
   * The journal is downloaded into scratch when one is stored; `save` uploads it (the shard calls it
   * after closing the database, and at checkpoints from a consistent backup). A shard that dies
   * leaves the last saved copy: see docs/operations.md, "Results on S3".
   */
  async openJournal(jobId: string, part: string, create: boolean): Promise<JournalFile | undefined> {
    const objects = await this.objects();
    const key = `${jobId}/journal/${part}.db`;
    const file = this.scratchFile(`${part}.db`);
    const existed = await objects.download(key, file);
    if (!existed && !create) return undefined;
    const release = async (): Promise<void> => {
      for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) fs.rmSync(f, { force: true });
    };
    const checkpoint = async (snapshot: (to: string) => Promise<unknown>): Promise<void> => {
      const snap = `${file}.checkpoint`;
      try {
        await snapshot(snap);
        await objects.putFile(key, snap);
      } finally {
        fs.rmSync(snap, { force: true });
      }
    };
    return { path: file, existed, scratch: true, save: () => objects.putFile(key, file), checkpoint, release };
  }

  recordCopies<T extends RevisedRecord>(idPattern: RegExp): RecordCopies<T> {
    return new ObjectRecordCopies<T>(this.objects, idPattern);
  }

  async check(): Promise<void> {
    fs.mkdirSync(this.scratch, { recursive: true });
    fs.accessSync(this.scratch, fs.constants.W_OK);
    await (await this.objects()).check();
  }

  async remove(jobId: string): Promise<void> {
    await (await this.objects()).removeAll(`${jobId}/`);
  }
}

/**
 * Record copies as objects, `<id>/record.json`. A PUT replaces the object whole (readers see the old
 * copy or the new one); a copy of a higher revision is not replaced: read first, as the directory
 * does (two writers racing between the read and the PUT remain possible there as here; the
 * reconciler's `repairCopies` rewrites from Redis).
 */
class ObjectRecordCopies<T extends RevisedRecord> implements RecordCopies<T> {
  constructor(
    private readonly objects: () => Promise<ResultObjects>,
    private readonly idPattern: RegExp,
  ) {}

  private key(id: string): string {
    return `${id}/record.json`;
  }

  async write(rec: T): Promise<void> {
    if (((await this.read(rec.id))?.rev ?? -1) > (rec.rev ?? 0)) return;
    await (await this.objects()).putBytes(this.key(rec.id), Buffer.from(JSON.stringify(rec)));
  }

  async read(id: string): Promise<T | undefined> {
    const body = await (await this.objects()).read(this.key(id));
    if (body === undefined) return undefined;
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
    } catch {
      return undefined; // PUT whole, so only a foreign object can be torn
    }
  }

  async remove(id: string): Promise<void> {
    await (await this.objects()).remove(this.key(id));
  }

  async ids(): Promise<string[]> {
    const names = await (await this.objects()).children('');
    return names
      .filter((n) => this.idPattern.test(n))
      .sort()
      .reverse();
  }
}
