import * as fs from 'node:fs';

/** One part being written: buffered appends to a temporary file, then fsync and rename. */
export class PartWriter {
  private readonly tmp: string;
  private fd: number | undefined;
  private buf = '';

  constructor(private readonly final: string) {
    this.tmp = `${final}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    this.fd = fs.openSync(this.tmp, 'w');
  }

  write(text: string): void {
    this.buf += text;
    if (this.buf.length >= 1 << 18) this.flush();
  }

  private flush(): void {
    if (this.buf.length > 0) fs.writeSync(this.fd!, this.buf);
    this.buf = '';
  }

  commit(): void {
    this.flush();
    fs.fsyncSync(this.fd!);
    fs.closeSync(this.fd!);
    this.fd = undefined;
    fs.renameSync(this.tmp, this.final);
  }

  /** Drops the temporary file (a shard that failed or was cancelled). */
  abort(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    fs.rmSync(this.tmp, { force: true });
  }
}
