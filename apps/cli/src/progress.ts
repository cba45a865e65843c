let numberFormat: Intl.NumberFormat | undefined;
/** Thousands separators, for people. */
export const formatCount = (n: number): string => (numberFormat ??= new Intl.NumberFormat('en-US')).format(n);

/**
 * One self-rewriting status line on stderr (only when asked or when stderr is a terminal). The
 * caller says what to show; this only paces and clears it.
 */
export class ProgressLine {
  private timer?: NodeJS.Timeout;
  private shown = false;
  readonly started = Date.now();

  constructor(
    private readonly write: (s: string) => void,
    private readonly render: (elapsedSec: number) => string | undefined,
  ) {}

  start(intervalMs = 200): void {
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
  }

  /** Draws the line now, between ticks: for a change worth seeing even when it lasts less than one. */
  draw(): void {
    const line = this.render(Math.max((Date.now() - this.started) / 1000, 0.001));
    if (line === undefined) return;
    this.shown = true;
    this.write(`\r\x1b[K${line}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.shown) this.write('\r\x1b[K');
  }
}
