/**
 * `format=paths` without a JSON parse per record: find and manifest records all begin
 * `{"path":"…"` (entryToJson, the native lister, manifest's hash records), and a path without a
 * backslash in its JSON string is its own UTF-8 bytes, copied out as they are. Only a path with an
 * escape (a quote, a backslash, a control character, a lone surrogate), or a record of some other
 * shape, is parsed — the string alone, or the record as before.
 */

const NL = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const PREFIX = Buffer.from('{"path":"');
const P = PREFIX.length;
const OUT = 1 << 18;

/** Whether `buf[at…]` begins with `{"path":"` (bytes compared inline: a native call per record costs more). */
function hasPrefix(buf: Buffer, at: number, end: number): boolean {
  if (end - at <= P) return false;
  for (let k = 0; k < P; k++) if (buf[at + k] !== PREFIX[k]) return false;
  return true;
}

/** The path of the record line `line[start, end)` (no newline) through JSON.parse: the slow way, for escapes and odd shapes. */
function parsedPath(line: Buffer, start: number, end: number): Buffer {
  if (hasPrefix(line, start, end)) {
    // The string alone: find its closing quote, skipping escaped characters.
    for (let i = start + P; i < end; i++) {
      if (line[i] === BACKSLASH) i++;
      else if (line[i] === QUOTE) return Buffer.from(JSON.parse(line.toString('utf8', start + P - 1, i + 1)) as string);
    }
  }
  return Buffer.from((JSON.parse(line.toString('utf8', start, end)) as { path: string }).path);
}

/** Output lines collected into blocks of about 256 KiB. */
class PathBlock {
  buf = Buffer.allocUnsafe(OUT);
  used = 0;

  /** Room for `n` more bytes (a path longer than a block grows it). */
  room(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length, this.used + n));
    this.buf.copy(bigger, 0, 0, this.used);
    this.buf = bigger;
  }

  /** `src[from, to)` and a newline. */
  line(src: Buffer, from: number, to: number): void {
    this.room(to - from + 1);
    this.used += src.copy(this.buf, this.used, from, to);
    this.buf[this.used++] = NL;
  }

  take(): Buffer {
    const out = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(OUT);
    this.used = 0;
    return out;
  }
}

/** Appends the paths of the whole lines of `chunk[pos, end)`; returns where the last whole line ended. */
function pathsOfLines(chunk: Buffer, pos: number, end: number, out: PathBlock, out2: (b: Buffer) => void): number {
  // The next backslash, found by memchr and kept ahead: a line before it has no escape, so its path ends at its first quote.
  let bs = chunk.indexOf(BACKSLASH, pos);
  for (let nl = chunk.indexOf(NL, pos); nl !== -1 && nl < end; nl = chunk.indexOf(NL, pos)) {
    if (bs !== -1 && bs < pos) bs = chunk.indexOf(BACKSLASH, pos);
    if (nl > pos) {
      let q = -1;
      if ((bs === -1 || bs > nl) && hasPrefix(chunk, pos, nl)) q = chunk.indexOf(QUOTE, pos + P);
      if (q !== -1 && q < nl) out.line(chunk, pos + P, q);
      else {
        const p = parsedPath(chunk, pos, nl);
        out.line(p, 0, p.length);
      }
    }
    pos = nl + 1;
    if (out.used >= OUT - 4096) out2(out.take());
  }
  return pos;
}

/**
 * The paths of a stream of find records (chunks cut anywhere, as partRecordBytes yields them),
 * one a line, in blocks of about 256 KiB. A record cut by a chunk's end is carried to the next.
 */
export async function* recordPaths(records: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const out = new PathBlock();
  const ready: Buffer[] = [];
  const emit = (b: Buffer): void => void ready.push(b);
  let carry: Buffer | undefined;
  for await (const chunk of records) {
    let pos = 0;
    if (carry !== undefined) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      const line = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = undefined;
      pathsOfLines(line, 0, line.length, out, emit);
      pos = nl + 1;
    }
    pos = pathsOfLines(chunk, pos, chunk.length, out, emit);
    if (pos < chunk.length) carry = Buffer.from(chunk.subarray(pos));
    while (ready.length > 0) yield ready.shift()!;
  }
  if (carry !== undefined && carry.length > 0) {
    const line = Buffer.concat([carry, Buffer.from('\n')]);
    pathsOfLines(line, 0, line.length, out, emit);
  }
  for (const b of ready) yield b;
  if (out.used > 0) yield out.take();
}
