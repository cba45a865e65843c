import { formatSize } from '@filer/core';
import type { BatchProgress, PhaseProgress } from '@filer/engine';

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

/** What a phase did between the first record of it this CLI saw and now. */
export interface PhaseRate {
  elapsedSec: number;
  files: number;
  bytes: number;
}

const percent = (done: number, total: number): string => (total > 0 ? ` (${Math.floor((done / total) * 100)}%)` : '');

/** Seconds as `m:ss`, or `h:mm:ss` from an hour on. */
export function formatDuration(secs: number): string {
  const s = Math.max(0, Math.ceil(secs));
  const two = (n: number): string => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/**
 * One phase's part of the line: files and bytes done of their totals, each with its percentage
 * (none when the total is zero), then, given a rate, bytes per second and the time left at that
 * rate (by files when the phase has no bytes to move). No rate or ETA before anything moved.
 */
export function formatPhaseProgress(p: PhaseProgress, rate?: PhaseRate): string {
  let text = `${p.phase} ${formatCount(p.files)}/${formatCount(p.filesTotal)} files${percent(p.files, p.filesTotal)}`;
  if (p.bytesTotal > 0) text += ` · ${formatSize(p.bytes)} of ${formatSize(p.bytesTotal)}${percent(p.bytes, p.bytesTotal)}`;
  if (rate === undefined || rate.elapsedSec <= 0) return text;
  const [done, left] = p.bytesTotal > 0 ? [rate.bytes, p.bytesTotal - p.bytes] : [rate.files, p.filesTotal - p.files];
  if (done <= 0) return text;
  const perSec = done / rate.elapsedSec;
  if (p.bytesTotal > 0) text += ` · ${formatSize(Math.round(perSec))}/s`;
  if (left > 0) text += ` · ETA ${formatDuration(left / perSec)}`;
  return text;
}

/** How progress is shown: not at all, a self-rewriting line, or one JSON object a second (`--progress=json`). */
export type ProgressMode = 'off' | 'text' | 'json';

/**
 * The progress of an in-process apply, resume or undo: files and bytes of the run's totals, the
 * rate since it began and the ETA by bytes — the cluster's line, drawn from the engine's counts
 * instead of a job record; or, for scripts, one JSON line a second and a last one at the end.
 * `stop` clears the line (or writes the last JSON) before the summary.
 */
export function batchProgressLine(
  write: (s: string) => void,
  mode: ProgressMode,
  phase: string,
): { onProgress?: (p: BatchProgress) => void; stop(): void } {
  if (mode === 'off') return { stop: () => undefined };
  let latest: PhaseProgress | undefined;
  const started = Date.now();
  const rateOf = (p: PhaseProgress, secs: number): PhaseRate => ({ elapsedSec: secs, files: p.files, bytes: p.bytes });
  if (mode === 'text') {
    const line = new ProgressLine(write, (secs) => (latest === undefined ? undefined : formatPhaseProgress(latest, rateOf(latest, secs))));
    line.start();
    return { onProgress: (p) => void (latest = { phase, ...p }), stop: () => line.stop() };
  }
  const emit = (): void => {
    if (latest !== undefined) write(JSON.stringify(progressRecord(latest, rateOf(latest, (Date.now() - started) / 1000))) + '\n');
  };
  const timer = setInterval(emit, 1000);
  timer.unref();
  return {
    onProgress: (p) => void (latest = { phase, ...p }),
    stop: () => {
      clearInterval(timer);
      emit();
    },
  };
}

/**
 * One `--progress=json` record: `done`/`total` files, `bytes`/`bytesTotal`, `rate` in bytes (files
 * when the phase moves none) per second and `eta` in seconds (null before anything moved).
 */
export function progressRecord(p: PhaseProgress, rate: PhaseRate): Record<string, string | number | null> {
  const byBytes = p.bytesTotal > 0;
  const done = byBytes ? rate.bytes : rate.files;
  const perSec = rate.elapsedSec > 0 && done > 0 ? done / rate.elapsedSec : null;
  const left = byBytes ? p.bytesTotal - p.bytes : p.filesTotal - p.files;
  return {
    phase: p.phase,
    done: p.files,
    total: p.filesTotal,
    bytes: p.bytes,
    bytesTotal: p.bytesTotal,
    rate: perSec === null ? null : Math.round(perSec),
    eta: perSec === null ? null : Math.ceil(Math.max(0, left) / perSec),
  };
}
