import type { ActionState, Journal, JournalAction } from './batch-types.js';

/**
 * Rows read from the journal at a time: a job of any size holds at most one page of its actions
 * (and the batch being applied) in memory.
 */
export const JOURNAL_PAGE = 1024;

/**
 * A job's actions in seq order (newest first when `reverse`), only those in `states`, read a page
 * at a time. Pages follow the seq cursor, so outcomes recorded meanwhile for actions already
 * read (behind the cursor) neither repeat nor skip any.
 */
export function* journalActions(
  journal: Journal,
  id: string,
  opts: { states?: readonly ActionState[]; reverse?: boolean } = {},
): Generator<JournalAction> {
  let cursor = opts.reverse === true ? Infinity : 0;
  for (;;) {
    const page = journal.actionPage(id, {
      ...(opts.reverse === true ? { before: cursor } : { after: cursor }),
      ...(opts.states === undefined ? {} : { states: opts.states }),
      limit: JOURNAL_PAGE,
    });
    yield* page;
    if (page.length < JOURNAL_PAGE) return;
    cursor = page[page.length - 1].seq;
  }
}

/** How many examples of a kind of failure a report keeps; the journal keeps every one. */
export const FAILURE_SAMPLE = 100;

/** A count and the first FAILURE_SAMPLE of some actions, each also handed on as it comes. */
export interface ActionSample {
  count: number;
  sample: JournalAction[];
}

/** Collects an ActionSample, streaming each action to `each` (the CLI prints it at once). */
export class SampledActions {
  readonly value: ActionSample = { count: 0, sample: [] };

  constructor(private readonly each?: (a: JournalAction) => void) {}

  add(a: JournalAction): void {
    this.value.count++;
    if (this.value.sample.length < FAILURE_SAMPLE) this.value.sample.push({ ...a });
    this.each?.(a);
  }
}
