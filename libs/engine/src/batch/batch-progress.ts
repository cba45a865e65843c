import type { JournalAction } from './batch-types.js';

/** What a run of a job (apply, resume, undo) has done of what it set out to do: for a progress line and its ETA. */
export interface BatchProgress {
  files: number;
  filesTotal: number;
  bytes: number;
  bytesTotal: number;
}

/** A phase's progress: a cluster job's live `progress` (hash, apply, undo), or an in-process run's. */
export interface PhaseProgress extends BatchProgress {
  phase: string;
}

/** Told after each batch (apply) or action (undo); the object is reused, so a caller keeps what it needs. */
export type OnBatchProgress = (p: BatchProgress) => void;

/**
 * Counts a run's progress for `report`: the totals from one pass over the actions it will go
 * through (made only when someone listens: a page-wise read of the journal), then each action
 * counted as it ends, whatever its outcome.
 */
export class ProgressCounter {
  private readonly p: BatchProgress = { files: 0, filesTotal: 0, bytes: 0, bytesTotal: 0 };

  constructor(
    private readonly report: OnBatchProgress | undefined,
    actions: () => Iterable<JournalAction>,
  ) {
    if (report === undefined) return;
    for (const a of actions()) {
      this.p.filesTotal++;
      this.p.bytesTotal += a.size;
    }
    report(this.p);
  }

  add(actions: Iterable<JournalAction>): void {
    if (this.report === undefined) return;
    for (const a of actions) {
      this.p.files++;
      this.p.bytes += a.size;
    }
    this.report(this.p);
  }
}
