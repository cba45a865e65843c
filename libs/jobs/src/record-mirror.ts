import * as fs from 'node:fs';
import * as path from 'node:path';
import { JOB_ID_PATTERN, type JobRecord } from './job-record.js';

const FILE = 'record.json';

/**
 * A copy of every job record on the results volume, `<results>/<job>/record.json`, rewritten on
 * each transition: Redis can lose its state (a restart without persistence, FLUSHALL), the
 * results volume keeps the records and the reconciler puts them back. Each copy is written under
 * a temporary name, fsync'd and renamed into place, and never replaces a copy of a later revision
 * (two processes changing one job in quick succession may finish their writes out of order).
 */
export class RecordMirror {
  constructor(readonly dir: string) {}

  path(id: string): string {
    return path.join(this.dir, id, FILE);
  }

  /** Writes the record durably; a copy on disk with a higher revision wins. */
  write(rec: JobRecord): void {
    const dir = path.join(this.dir, rec.id);
    fs.mkdirSync(dir, { recursive: true });
    const final = path.join(dir, FILE);
    const tmp = `${final}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(rec));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if ((this.read(rec.id)?.rev ?? -1) > (rec.rev ?? 0)) {
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

  /** The mirrored record, or undefined when there is none (or it cannot be read). */
  read(id: string): JobRecord | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.path(id), 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as JobRecord;
    } catch {
      return undefined; // renamed into place whole, so only a foreign file can be torn
    }
  }

  /** Ids of every job with a directory in the results volume, newest first (ids are time-ordered). */
  ids(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => JOB_ID_PATTERN.test(n))
      .sort()
      .reverse();
  }
}
