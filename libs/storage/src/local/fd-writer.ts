import * as fs from 'node:fs';

/** Raised when the reader of an output went away (`filer find | head`): stop quietly. */
export class BrokenPipe extends Error {}

const EAGAIN_WAIT = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `data` to a file descriptor synchronously (the CLI's results go to fd 1 this way):
 * the walk's threads already batch records into large chunks, and a blocking write is what keeps
 * memory bounded when the reader is slow.
 */
export function writeFully(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(EAGAIN_WAIT, 0, 0, 5); // a non-blocking pipe is full: give the reader a moment
        continue;
      }
      if (code === 'EPIPE') throw new BrokenPipe(`fd ${fd} closed`);
      throw e;
    }
  }
}
