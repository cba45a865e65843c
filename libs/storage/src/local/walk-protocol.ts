import type { FileEntry, FilterSpec, PathError } from '@filer/core';
import type { DirTask, FindFormat, WalkStats } from '@filer/engine';

/** How a walker thread hands results over: formatted text (fast path) or entries (sort, limit, other jobs). */
export type OutputMode = { kind: 'text'; format: FindFormat; nul: boolean } | { kind: 'entries' };

/** Whether the source may format the records itself: any text output (json's are NDJSON lines the writer wraps). */
export function sourceFormatsRecords(output: OutputMode): boolean {
  return output.kind === 'text';
}

export interface WorkerInit {
  spec: FilterSpec;
  statAll: boolean;
  identity: boolean;
  output: OutputMode;
  /** Int32Array over a SharedArrayBuffer, see the CTRL_* slots. */
  control: SharedArrayBuffer;
  native: boolean;
}

/** Shared control slots: idle threads waiting for work, output chunks not yet written, stop flag. */
export const CTRL_HUNGRY = 0;
export const CTRL_OUTSTANDING = 1;
export const CTRL_STOP = 2;
export const CTRL_SLOTS = 3;

/** Above this many unwritten chunks, walker threads wait: memory stays bounded when stdout is slow. */
export const MAX_OUTSTANDING_CHUNKS = 16;

export type ToWorker = { t: 'work'; tasks: DirTask[] };

export type FromWorker =
  | { t: 'text'; bytes: Uint8Array; count: number; errors: PathError[]; stats: WalkStats }
  | { t: 'entries'; entries: FileEntry[]; errors: PathError[]; stats: WalkStats }
  | { t: 'donate'; tasks: DirTask[] }
  | { t: 'idle'; errors: PathError[]; stats: WalkStats };
