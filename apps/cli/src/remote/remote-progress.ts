// The progress line of a command run through the cluster: the scan's counters, then, while a hash,
// apply or undo phase runs, what the record's live `progress` says it has done of its total.
import { formatCount, formatPhaseProgress, ProgressLine, type PhaseRate } from '../progress.js';
import type { RemoteJob } from './api-client.js';

export { formatDuration, formatPhaseProgress, type PhaseRate } from '../progress.js';

/**
 * The whole line for a record: its state, then the running phase's progress when the record has
 * one, else the scan's counters (`scanSecs`: since the job was submitted) or, without a scan,
 * the apply's outcome counts.
 */
export function remoteProgressText(job: RemoteJob | undefined, scanSecs: number, rate?: PhaseRate): string | undefined {
  if (job === undefined) return undefined;
  const head = `${job.state}${job.phase ? ` (${job.phase})` : ''} · shards ${job.shards.done}/${job.shards.total}`;
  if (job.progress !== undefined) return `${head} · ${formatPhaseProgress(job.progress, rate)}`;
  const a = job.apply;
  if (a !== undefined) return `${head} · done ${formatCount(a.done)}, undone ${formatCount(a.undone)}, failed ${formatCount(a.failed)}`;
  const c = job.counters;
  return `${head} · scanned ${formatCount(c.entries)} entries (${formatCount(Math.round(c.entries / scanSecs))}/s) · matched ${formatCount(c.matched)} · errors ${formatCount(c.errors)}`;
}

/**
 * Measures a phase's rate from the records as they come: the first record of a phase is the
 * baseline (the CLI may attach midway, and a record arrives only when a shard ends), what was done
 * since, over the time since, is the rate.
 */
export class PhaseRateClock {
  private base?: { phase: string; atMs: number; files: number; bytes: number };
  private lastFiles = 0;

  /** Takes a fresh record; true when it starts a phase this clock had not seen (worth drawing at once). */
  observe(job: RemoteJob, nowMs: number): boolean {
    const p = job.progress;
    if (p === undefined) return false;
    // A phase started again (an undo after the apply, a resume) zeroes its counts: a new baseline.
    const same = this.base?.phase === p.phase && p.files >= this.lastFiles;
    this.lastFiles = p.files;
    if (same) return false;
    this.base = { phase: p.phase, atMs: nowMs, files: p.files, bytes: p.bytes };
    return true;
  }

  rate(job: RemoteJob | undefined, nowMs: number): PhaseRate | undefined {
    const p = job?.progress;
    if (p === undefined || this.base?.phase !== p.phase) return undefined;
    return { elapsedSec: (nowMs - this.base.atMs) / 1000, files: p.files - this.base.files, bytes: p.bytes - this.base.bytes };
  }
}

/** The progress line of a followed job (nothing when `enabled` is false): feed it every record. */
export class RemoteProgressLine {
  private latest?: RemoteJob;
  private readonly clock = new PhaseRateClock();
  private readonly line?: ProgressLine;

  constructor(write: (s: string) => void, enabled: boolean) {
    if (enabled)
      this.line = new ProgressLine(write, (secs) => remoteProgressText(this.latest, secs, this.clock.rate(this.latest, Date.now())));
  }

  start(): void {
    this.line?.start();
  }

  readonly update = (job: RemoteJob): void => {
    this.latest = job;
    // A phase's first record is drawn at once: a short phase may end between two ticks.
    if (this.clock.observe(job, Date.now())) this.line?.draw();
  };

  stop(): void {
    this.line?.stop();
  }
}
