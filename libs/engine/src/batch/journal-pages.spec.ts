import { describe, expect, it } from 'vitest';
import type { ActionPageQuery, ActionState, Journal, JournalAction } from './batch-types.js';
import { FAILURE_SAMPLE, JOURNAL_PAGE, journalActions, SampledActions } from './journal-pages.js';

/** A journal of `n` actions in memory, answering actionPage as SqliteJournal does; counts the pages read. */
function journalOf(n: number, state: (seq: number) => ActionState = () => 'pending') {
  const rows: JournalAction[] = Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    source: `/s/${i + 1}`,
    target: `/t/${i + 1}`,
    size: 1,
    overwrite: false,
    state: state(i + 1),
  }));
  let pages = 0;
  const sut = {
    actionPage(_id: string, q: ActionPageQuery): JournalAction[] {
      pages++;
      const desc = q.before !== undefined;
      const hits = rows.filter(
        (r) => (desc ? r.seq < q.before! : r.seq > (q.after ?? 0)) && (q.states === undefined || q.states.includes(r.state)),
      );
      return (desc ? hits.reverse() : hits).slice(0, q.limit).map((r) => ({ ...r }));
    },
  } as unknown as Journal;
  return { sut, rows, pages: () => pages };
}

describe('journalActions', () => {
  it('reads every action once, in seq order, a page at a time, while outcomes are recorded behind the cursor', () => {
    const n = JOURNAL_PAGE * 2 + 7;
    const j = journalOf(n);
    const seen: number[] = [];
    for (const a of journalActions(j.sut, 'job', { states: ['pending'] })) {
      seen.push(a.seq);
      j.rows[a.seq - 1].state = 'done'; // recorded as it goes: never read again, nothing skipped
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(j.pages()).toBe(3);
  });

  it('newest first, only the states asked for', () => {
    const j = journalOf(JOURNAL_PAGE + 10, (seq) => (seq % 3 === 0 ? 'failed' : 'done'));
    const seen = [...journalActions(j.sut, 'job', { states: ['done'], reverse: true })].map((a) => a.seq);
    expect(seen[0]).toBe(JOURNAL_PAGE + 10 - ((JOURNAL_PAGE + 10) % 3 === 0 ? 1 : 0));
    expect(seen.every((s, i) => s % 3 !== 0 && (i === 0 || s < seen[i - 1]))).toBe(true);
    expect(seen.length).toBe(JOURNAL_PAGE + 10 - Math.floor((JOURNAL_PAGE + 10) / 3));
  });
});

describe('SampledActions', () => {
  it('counts every action, keeps the first FAILURE_SAMPLE, hands each on', () => {
    const each: number[] = [];
    const sut = new SampledActions((a) => each.push(a.seq));
    const j = journalOf(FAILURE_SAMPLE + 50);
    for (const a of j.rows) sut.add(a);
    expect(sut.value.count).toBe(FAILURE_SAMPLE + 50);
    expect(sut.value.sample.map((a) => a.seq)).toEqual(Array.from({ length: FAILURE_SAMPLE }, (_, i) => i + 1));
    expect(each.length).toBe(FAILURE_SAMPLE + 50);
  });
});
