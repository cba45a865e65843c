import * as fs from 'node:fs';
import * as path from 'node:path';

/** A record kept on disk: its id names its directory, and a later revision is never replaced by an earlier one. */
export interface RevisedRecord {
  id: string;
  rev?: number;
}

/** Copies of records kept beside the results, one per id (the port; a directory or an S3 prefix). */
export interface RecordCopies<T extends RevisedRecord> {
  /** Writes the record durably, unless the stored copy has a higher revision. */
  write(rec: T): Promise<void>;
  /** The record, or undefined when there is none (or it cannot be read). */
  read(id: string): Promise<T | undefined>;
  /** Removes the record (not the rest of its job's results); nothing when there is none. */
  remove(id: string): Promise<void>;
  /** Ids of every job with results, in descending order (newest first: ids begin with their creation time). */
  ids(): Promise<string[]>;
}

/**
 * One JSON record per id, `<dir>/<id>/<name>`, written whole under a temporary name, fsync'd and
 * renamed into place (then the directory fsync'd), so a reader sees the old copy or the new one,
 * never a torn one. Two processes writing one record in quick succession may finish out of order:
 * a copy on disk with a higher `rev` wins.
 */
export class RecordFiles<T extends RevisedRecord> implements RecordCopies<T> {
  constructor(
    readonly dir: string,
    /** Which directory names are records' ids (anything else in `dir` is not listed). */
    private readonly idPattern: RegExp,
    private readonly name = 'record.json',
  ) {}

  path(id: string): string {
    return path.join(this.dir, id, this.name);
  }

  /** Writes the record durably, unless the copy on disk has a higher revision. */
  async write(rec: T): Promise<void> {
    const dir = path.join(this.dir, rec.id);
    fs.mkdirSync(dir, { recursive: true });
    const final = path.join(dir, this.name);
    const tmp = `${final}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(rec));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if ((this.readSync(rec.id)?.rev ?? -1) > (rec.rev ?? 0)) {
      fs.rmSync(tmp, { force: true });
      return;
    }
    fs.renameSync(tmp, final);
    // The rename is durable once the directory is.
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }

  /** Removes the record (not the rest of its directory); nothing when there is none. */
  async remove(id: string): Promise<void> {
    fs.rmSync(this.path(id), { force: true });
  }

  async read(id: string): Promise<T | undefined> {
    return this.readSync(id);
  }

  private readSync(id: string): T | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.path(id), 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined; // renamed into place whole, so only a foreign file can be torn
    }
  }

  /** Ids of every record directory in `dir`, in descending name order. */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => this.idPattern.test(n))
      .sort()
      .reverse();
  }
}
