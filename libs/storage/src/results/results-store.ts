import type { RecordRange } from './part-bytes.js';
import type { RecordCopies, RevisedRecord } from './record-files.js';

/** One part being written: buffered appends, then `commit` makes it visible whole (or `abort` drops it). */
export interface ResultPart {
  write(text: string): void;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * An apply shard's SQLite journal as a local file: where it lies in the results (a shared
 * directory: there; S3: a scratch copy downloaded first). `save` makes the file's current content
 * the stored journal (a no-op in a directory); `release` forgets the scratch copy.
 */
export interface JournalFile {
  path: string;
  /** False when no journal was stored for this part before (a fresh shard). */
  existed: boolean;
  /** True when `path` is a local copy (S3): the shard then checkpoints it while it runs. */
  scratch: boolean;
  /** Stores the file at `path` (closed) as the part's journal. */
  save(): Promise<void>;
  /** Stores a consistent copy that `snapshot` writes to the file it is given (SQLite's backup of the open database). */
  checkpoint(snapshot: (file: string) => Promise<unknown>): Promise<void>;
  release(): Promise<void>;
}

/**
 * The cluster's results (the port): per job, parts of each kind (`<job>/<kind>/<part>.ndjson`),
 * apply journals (`<job>/journal/<part>.db`) and the job record's copy (`<job>/record.json`).
 * A part is made visible whole, so a retried shard replaces its part instead of adding a second
 * one. Two adapters: a directory every API replica and worker mounts (`DirResultsStore`), or an
 * S3 prefix (`ObjectResultsStore`), chosen once from FILER_RESULTS.
 */
export interface ResultsStore {
  /** Where the results are, for messages: a directory or `s3://bucket/prefix/`. */
  readonly location: string;
  /**
   * Opens a part for writing; `commit` makes it durable and visible. Text is buffered and written in
   * large blocks as it comes, so a shard never holds its matches.
   */
  openPart(jobId: string, kind: string, part: string): Promise<ResultPart>;
  /** Writes one part whole. */
  writePart(jobId: string, kind: string, part: string, lines: readonly string[]): Promise<void>;
  /** Names of the parts of one kind, in name order. */
  listParts(jobId: string, kind: string): Promise<string[]>;
  /** Every line of every part of one kind, streamed (one part open at a time). */
  lines(jobId: string, kind: string): AsyncGenerator<string>;
  /** The lines of one part; throws ENOENT when it is missing. */
  partLines(jobId: string, kind: string, part: string): AsyncGenerator<string>;
  /**
   * Records [cursor, cursor + limit) of every part of one kind as the stored bytes, each ending in a
   * newline: what `lines` yields, joined with newlines, without decoding or splitting (part-bytes.ts).
   */
  records(jobId: string, kind: string, range: RecordRange): AsyncGenerator<Buffer>;
  /** An apply shard's journal as a local SQLite file (`create`: made when missing, else undefined). */
  openJournal(jobId: string, part: string, create: boolean): Promise<JournalFile | undefined>;
  /** The copies of records kept beside the parts, one per job id matching `idPattern`. */
  recordCopies<T extends RevisedRecord>(idPattern: RegExp): RecordCopies<T>;
  /** Whether the results can be written (readiness); throws the reason. */
  check(): Promise<void>;
  /** Removes everything of one job (parts, journals, record copy). */
  remove(jobId: string): Promise<void>;
}

/** Writes a part from lines through `openPart` (temporary file or object, then commit). */
export async function writeWholePart(part: ResultPart, lines: readonly string[]): Promise<void> {
  try {
    for (const line of lines) part.write(line);
    await part.commit();
  } catch (e) {
    await part.abort();
    throw e;
  }
}
