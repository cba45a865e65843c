import type { WalkStats } from '@filer/engine';

let numberFormat: Intl.NumberFormat | undefined;
const fmt = { format: (n: number): string => (numberFormat ??= new Intl.NumberFormat('en-US')).format(n) };

/** One self-rewriting status line on stderr (only when asked or when stderr is a terminal). */
export class ProgressLine {
  private timer?: NodeJS.Timeout;
  private stats?: WalkStats;
  private readonly started = Date.now();

  constructor(private readonly write: (s: string) => void) {}

  start(intervalMs = 200): void {
    this.timer = setInterval(() => this.render(), intervalMs);
    this.timer.unref();
  }

  update(stats: WalkStats): void {
    this.stats = stats;
  }

  private render(): void {
    const s = this.stats;
    if (!s) return;
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    this.write(
      `\r\x1b[Kscanned ${fmt.format(s.entries)} entries (${fmt.format(Math.round(s.entries / secs))}/s) · matched ${fmt.format(s.matched)} · errors ${fmt.format(s.errors)}`,
    );
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.stats) this.write('\r\x1b[K');
  }
}
