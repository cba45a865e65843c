/** Bytes gathered before they are written (about a MiB, as the text of a large plan). */
const CHUNK = 1 << 20;

/**
 * Text written as UTF-8 into one buffer, each piece encoded where it goes, and handed to `out`
 * once the buffer is nearly full (a fresh buffer is taken then: `out` may keep the one it got).
 * A plan's line joins two paths with '→': made into one string, that string is two bytes a
 * character, and encoding it took as long as reading the plan from its store did.
 */
export class Utf8Chunks {
  private buf = Buffer.allocUnsafe(CHUNK);
  private at = 0;

  constructor(private readonly out: (data: Uint8Array) => void) {}

  put(text: string): void {
    // At most 3 bytes of UTF-8 per UTF-16 unit: that much room, or the buffer goes first.
    if (this.at + text.length * 3 > this.buf.length) {
      this.flush();
      if (text.length * 3 > this.buf.length) return this.out(Buffer.from(text, 'utf8'));
    }
    this.at += this.buf.write(text, this.at, 'utf8');
  }

  flush(): void {
    if (this.at === 0) return;
    this.out(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.at = 0;
  }
}
