import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Paths held in memory before the rest wait in a file: a walk finds paths far faster than commands run. */
const MEMORY_PATHS = 65_536;
const READ_CHUNK = 1 << 20;

/**
 * The matches of a find waiting for -x/-X, fed with find's `--format paths -0` text as it is
 * written and taken one path at a time. Above MEMORY_PATHS the rest go, in order, to a temporary
 * file read back as the memory drains, so a walk of millions of files holds a fixed amount.
 */
export class PathQueue {
  private readonly memory: string[] = [];
  private head = 0;
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private closed = false;
  private waiters: (() => void)[] = [];
  private spill: { dir: string; fd: number; written: number; read: number; tail: string; decoder: StringDecoder } | undefined;

  /** Takes find's output text: NUL-separated paths, split anywhere. */
  write(data: string | Uint8Array): void {
    const text = this.partial + (typeof data === 'string' ? data : this.decoder.write(Buffer.from(data)));
    const parts = text.split('\0');
    this.partial = parts.pop()!;
    for (const p of parts) if (p !== '') this.push(p);
    this.wake();
  }

  /** No more paths will come. */
  close(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest !== '') this.push(rest);
    this.closed = true;
    this.wake();
  }

  /** The next path, or undefined once closed and drained. */
  async next(): Promise<string | undefined> {
    for (;;) {
      if (this.head < this.memory.length || this.refill()) {
        const path = this.memory[this.head];
        this.memory[this.head++] = '';
        if (this.head > 4096 && this.head * 2 > this.memory.length) {
          this.memory.splice(0, this.head);
          this.head = 0;
        }
        return path;
      }
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Removes the temporary file, if one was made. */
  dispose(): void {
    if (this.spill === undefined) return;
    closeSync(this.spill.fd);
    rmSync(this.spill.dir, { recursive: true, force: true });
    this.spill = undefined;
  }

  private push(path: string): void {
    // Once anything waits in the file, later paths go after it: the order stays the walk's.
    const spilling = this.spill !== undefined && this.spill.read < this.spill.written;
    if (!spilling && this.memory.length - this.head < MEMORY_PATHS) {
      this.memory.push(path);
      return;
    }
    if (this.spill === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'filer-exec-'));
      this.spill = { dir, fd: openSync(join(dir, 'paths'), 'w+'), written: 0, read: 0, tail: '', decoder: new StringDecoder('utf8') };
    }
    const bytes = Buffer.from(path + '\0');
    writeSync(this.spill.fd, bytes, 0, bytes.length, this.spill.written);
    this.spill.written += bytes.length;
  }

  /** Moves the next chunk of the file into memory; false when it holds nothing unread. */
  private refill(): boolean {
    const s = this.spill;
    if (s === undefined || s.read >= s.written) return false;
    this.memory.length = 0;
    this.head = 0;
    while (this.memory.length === 0 && s.read < s.written) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, s.written - s.read));
      const n = readSync(s.fd, buf, 0, buf.length, s.read);
      s.read += n;
      // Every path in the file ends with NUL, so only a path cut by the chunk's end is carried over.
      const parts = (s.tail + s.decoder.write(buf.subarray(0, n))).split('\0');
      s.tail = parts.pop()!;
      for (const p of parts) this.memory.push(p);
    }
    return this.memory.length > 0;
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}
