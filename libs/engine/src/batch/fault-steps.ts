import { invalidArgument } from '@filer/core';

/**
 * The named steps of applying and undoing a job where a test may kill the process
 * (the CLI's FILER_FAULT=<step>:<n>): each is a point where a crash leaves a distinct state on disk.
 */
export const FAULT_STEPS = [
  /** The plan is journaled; nothing touched yet. */
  'after-journal',
  /** A batch's copies are about to be staged. */
  'before-copy',
  /** Half of a file is written to its temporary name. */
  'mid-copy',
  /** A batch's copies are complete under their temporary names, not yet durable. */
  'after-stage',
  /** The staged copies are durable. */
  'after-fsync',
  /** A target name exists (a hard link, a rename over, or a copy linked into place). */
  'after-link',
  /** A batch's moved copies are journaled as this job's; their sources are still there. */
  'after-commit',
  /** A source is about to be removed. */
  'before-unlink',
  /** A source was removed; its outcome is not journaled yet. */
  'after-unlink',
  /** One action of an undo is done. */
  'mid-undo',
] as const;

export type FaultStep = (typeof FAULT_STEPS)[number];
export type FaultHook = (step: FaultStep) => void;

/** A parsed fault point (the CLI reads it from FILER_FAULT): die at the `n`-th time `step` is reached. */
export interface FaultSpec {
  step: FaultStep;
  n: number;
}

/** Parses `<step>:<n>` (n ≥ 1; `:1` may be left out); throws E_INVALID_ARGUMENT naming `field` (the variable). */
export function parseFaultSpec(text: string, field: string): FaultSpec {
  const m = /^([a-z-]+)(?::(\d+))?$/.exec(text);
  const step = m?.[1] as FaultStep | undefined;
  const n = Number(m?.[2] ?? '1');
  if (step === undefined || !FAULT_STEPS.includes(step) || n < 1)
    throw invalidArgument(field, text, `${field} must be <step>:<n> with n ≥ 1 and a step among ${FAULT_STEPS.join(', ')}; not '${text}'`);
  return { step, n };
}
