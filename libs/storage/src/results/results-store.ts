import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { partRecordBytes, type RecordRange } from './part-bytes.js';
import { PartWriter } from './part-writer.js';

/**
 * Results and journals of cluster jobs in a directory every API replica and worker mounts:
 * `<dir>/<job id>/<part kind>/<part>.ndjson`. A part is written whole under a temporary name
 * and renamed into place, so a retried shard replaces its part instead of adding a second one.
 */
export class ResultsStore {
  constructor(readonly dir: string) {}

  partDir(jobId: string, kind: string): string {
    return path.join(this.dir, jobId, kind);
  }

  /** Makes the directory of one kind of part (a shard's journal, say); throws the errno error when it cannot. */
  makePartDir(jobId: string, kind: string): string {
    const dir = this.partDir(jobId, kind);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  partPath(jobId: string, kind: string, part: string): string {
    return path.join(this.dir, jobId, kind, `${part}.ndjson`);
  }

  /**
   * Opens a part for writing under a temporary name; `commit` makes it durable and renames it into
   * place. Text is buffered and written in large blocks as it comes, so a shard never holds its
   * matches: on a 1M-file walk that halves the CPU time against collecting lines first.
   */
  openPart(jobId: string, kind: string, part: string): PartWriter {
    const dir = this.partDir(jobId, kind);
    fs.mkdirSync(dir, { recursive: true });
    return new PartWriter(path.join(dir, `${part}.ndjson`));
  }

  /** Writes one part atomically (temp name, fsync, rename). */
  writePart(jobId: string, kind: string, part: string, lines: readonly string[]): void {
    const w = this.openPart(jobId, kind, part);
    try {
      for (const line of lines) w.write(line);
      w.commit();
    } catch (e) {
      w.abort();
      throw e;
    }
  }

  /** Part files of one kind, in name order (temporary files excluded). */
  listParts(jobId: string, kind: string): string[] {
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

  /** Every line of every part of one kind, streamed (one part open at a time). */
  async *lines(jobId: string, kind: string): AsyncGenerator<string> {
    for (const file of this.listParts(jobId, kind)) yield* linesOf(file);
  }

  /**
   * Records [cursor, cursor + limit) of every part of one kind as the bytes on disk, each ending in a
   * newline: what `lines` yields, joined with newlines, without decoding or splitting (part-bytes.ts).
   */
  records(jobId: string, kind: string, range: RecordRange): AsyncGenerator<Buffer> {
    return partRecordBytes(this.listParts(jobId, kind), range);
  }

  /** The lines of one part. */
  partLines(jobId: string, kind: string, part: string): AsyncGenerator<string> {
    return linesOf(this.partPath(jobId, kind, part));
  }

  /** Whether the store's directory is there and writable (readiness). */
  check(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.accessSync(this.dir, fs.constants.W_OK);
  }

  remove(jobId: string): void {
    fs.rmSync(path.join(this.dir, jobId), { recursive: true, force: true });
  }
}

async function* linesOf(file: string): AsyncGenerator<string> {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line !== '') yield line;
}
