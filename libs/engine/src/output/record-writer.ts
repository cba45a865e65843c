import { CSV_HEADER, type FindFormat } from './find-format.js';

/** The one output stage: receives chunks of formatted records and adds the format's framing. */
export class RecordWriter {
  private first = true;

  constructor(
    private readonly format: FindFormat,
    private readonly write: (data: string | Uint8Array) => void,
  ) {}

  begin(): void {
    if (this.format === 'csv') this.write(CSV_HEADER);
    if (this.format === 'json') this.write('[');
  }

  /** A chunk of whole records as `formatRecord` made them, as text or UTF-8 bytes. */
  chunk(data: string | Uint8Array): void {
    if (data.length === 0) return;
    if (this.format === 'json') {
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
      // JSON strings escape newlines, so every '\n' here is a record separator.
      const body = text.endsWith('\n') ? text.slice(0, -1) : text;
      this.write((this.first ? '\n' : ',\n') + body.replaceAll('\n', ',\n'));
    } else {
      this.write(data);
    }
    this.first = false;
  }

  end(): void {
    if (this.format === 'json') this.write(this.first ? ']\n' : '\n]\n');
  }
}
