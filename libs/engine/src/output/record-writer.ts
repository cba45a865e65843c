import { CSV_HEADER, type FindFormat } from './find-format.js';

/** The one output stage: receives chunks of formatted records and adds the format's framing. */
export class RecordWriter {
  private first = true;

  constructor(
    private readonly format: FindFormat,
    private readonly write: (text: string) => void,
  ) {}

  begin(): void {
    if (this.format === 'csv') this.write(CSV_HEADER);
    if (this.format === 'json') this.write('[');
  }

  /** A chunk of whole records as `formatRecord` made them. */
  chunk(text: string): void {
    if (text === '') return;
    if (this.format === 'json') {
      // JSON strings escape newlines, so every '\n' here is a record separator.
      const body = text.endsWith('\n') ? text.slice(0, -1) : text;
      this.write((this.first ? '\n' : ',\n') + body.replaceAll('\n', ',\n'));
    } else {
      this.write(text);
    }
    this.first = false;
  }

  end(): void {
    if (this.format === 'json') this.write(this.first ? ']\n' : '\n]\n');
  }
}
