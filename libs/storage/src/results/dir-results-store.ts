import * as fs from 'node:fs';
import * as path from 'node:path';
import { linesOf } from './lines-of.js';
import { partRecordBytes, type RecordRange } from './part-bytes.js';
import { PartWriter } from './part-writer.js';
import { RecordFiles, type RecordCopies, type RevisedRecord } from './record-files.js';
import { writeWholePart, type JournalFile, type ResultPart, type ResultsStore } from './results-store.js';

/**
 * Results in a directory every API replica and worker mounts: `<dir>/<job id>/<part kind>/<part>.ndjson`,
 * each part written under a temporary name, fsync'd and renamed into place; journals are SQLite
 * files in place, `<dir>/<job>/journal/<part>.db`, so a shard that dies leaves every write it made.
 */
export class DirResultsStore implements ResultsStore {
  constructor(readonly dir: string) {}

  get location(): string {
    return this.dir;
  }

  partDir(jobId: string, kind: string): string {
    return path.join(this.dir, jobId, kind);
  }

  partPath(jobId: string, kind: string, part: string): string {
    return path.join(this.dir, jobId, kind, `${part}.ndjson`);
  }

  async openPart(jobId: string, kind: string, part: string): Promise<ResultPart> {
    fs.mkdirSync(this.partDir(jobId, kind), { recursive: true });
    const w = new PartWriter(this.partPath(jobId, kind, part));
    return {
      write: (text) => w.write(text),
      commit: async () => w.commit(),
      abort: async () => w.abort(),
    };
  }

  async writePart(jobId: string, kind: string, part: string, lines: readonly string[]): Promise<void> {
    await writeWholePart(await this.openPart(jobId, kind, part), lines);
  }

  private partFiles(jobId: string, kind: string): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.partDir(jobId, kind));
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.ndjson'))
      .sort()
      .map((n) => path.join(this.partDir(jobId, kind), n));
  }

  async listParts(jobId: string, kind: string): Promise<string[]> {
    return this.partFiles(jobId, kind).map((f) => path.basename(f, '.ndjson'));
  }

  async *lines(jobId: string, kind: string): AsyncGenerator<string> {
    for (const file of this.partFiles(jobId, kind)) yield* linesOf(fs.createReadStream(file));
  }

  /** Throws ENOENT when the part is missing (a shard's input that a retry may yet find). */
  async *partLines(jobId: string, kind: string, part: string): AsyncGenerator<string> {
    yield* linesOf(fs.createReadStream(this.partPath(jobId, kind, part)));
  }

  records(jobId: string, kind: string, range: RecordRange): AsyncGenerator<Buffer> {
    return partRecordBytes(this.partFiles(jobId, kind), range);
  }

  async openJournal(jobId: string, part: string, create: boolean): Promise<JournalFile | undefined> {
    const file = path.join(this.partDir(jobId, 'journal'), `${part}.db`);
    const existed = fs.existsSync(file);
    if (!existed && !create) return undefined;
    // Made here, not by SQLite, so a volume that cannot hold it fails the shard with its errno (EEXIST, EACCES).
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const nothing = async (): Promise<void> => {};
    return { path: file, existed, scratch: false, save: nothing, checkpoint: nothing, release: nothing };
  }

  recordCopies<T extends RevisedRecord>(idPattern: RegExp): RecordCopies<T> {
    return new RecordFiles<T>(this.dir, idPattern);
  }

  async check(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.accessSync(this.dir, fs.constants.W_OK);
  }

  async remove(jobId: string): Promise<void> {
    fs.rmSync(path.join(this.dir, jobId), { recursive: true, force: true });
  }
}
