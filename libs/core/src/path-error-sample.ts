import type { PathError } from './file-entry.js';

/** How many per-path failures a job keeps with its record; the rest are counted (and were reported as they came). */
export const PATH_ERROR_SAMPLE = 100;

/**
 * The per-path failures of a walk or a plan, bounded: every one is counted and handed to
 * `report` as it comes (with whether it was kept); only the first PATH_ERROR_SAMPLE are kept.
 */
export class PathErrorSample {
  count = 0;
  readonly kept: PathError[] = [];

  constructor(private readonly report?: (e: PathError, kept: boolean) => void) {}

  add(e: PathError): void {
    this.count++;
    const kept = this.kept.length < PATH_ERROR_SAMPLE;
    if (kept) this.kept.push(e);
    this.report?.(e, kept);
  }
}
