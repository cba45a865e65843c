import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planMoves, type MoveRequest, type OnConflict, type TargetView } from '@filer/engine';
import { PlanStore } from '../src/state/plan-store.js';
import { planStored } from '../src/batch/stored-transfer-plan.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-plan-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const view = (existing: readonly string[], caseInsensitive: boolean): TargetView => {
  const fold = (p: string): string => (caseInsensitive ? p.toLowerCase() : p);
  const set = new Set(existing.map(fold));
  return { caseInsensitive, exists: (p) => set.has(fold(p)) };
};

/** The same requests planned in memory (planMoves) and through a plan store on disk. */
function bothWays(reqs: readonly MoveRequest[], v: TargetView, policy: OnConflict) {
  const store = PlanStore.create(dir);
  try {
    store.add(reqs.map((r, i) => ({ root: 0, sortKey: String(i).padStart(6, '0'), source: r.source, target: r.target, size: r.size })));
    store.seal(v.caseInsensitive ? (p) => p.toLowerCase() : undefined);
    const totals = planStored(store, v, policy);
    return {
      stored: { actions: [...store.actions()], conflicts: [...store.conflicts()], totals },
      memory: planMoves(reqs, v, policy),
    };
  } finally {
    store.close();
  }
}

describe('PlanStore + planStored', () => {
  it('plans chains, cycles, suffixes and refusals exactly as planMoves does (property)', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'A', 'B', 'a (1)', 'x');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, name, fc.nat(9)), { selector: ([s]) => s, maxLength: 7 }),
        fc.array(name, { maxLength: 3 }),
        fc.constantFrom('fail', 'skip', 'suffix', 'overwrite') as fc.Arbitrary<OnConflict>,
        fc.boolean(),
        (triples, others, policy, caseInsensitive) => {
          const reqs = triples.map(([s, t, size]) => ({ source: '/d/' + s, target: '/d/' + t, size }));
          const v = view([...triples.map(([s]) => '/d/' + s), ...others.map((o) => '/d/' + o)], caseInsensitive);
          const { stored, memory } = bothWays(reqs, v, policy);
          expect(stored.actions).toEqual(memory.actions);
          expect(stored.conflicts).toEqual(memory.conflicts);
          expect(stored.totals).toEqual({
            actions: memory.actions.length,
            bytes: memory.bytes,
            conflicts: memory.conflicts.length,
            unchanged: memory.unchanged,
            skipped: memory.skipped,
          });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('orders a long chain so that each target is vacated first, the way planMoves does', () => {
    const reqs = ['a', 'aa', 'aaa', 'aaaa'].map((s) => ({ source: `/d/${s}`, target: `/d/${s}a`, size: 1 }));
    const { stored, memory } = bothWays(reqs, view(['/d/a', '/d/aa', '/d/aaa', '/d/aaaa'], false), 'fail');
    expect(stored.actions.map((a) => a.source)).toEqual(['/d/aaaa', '/d/aaa', '/d/aa', '/d/a']);
    expect(stored.actions).toEqual(memory.actions);
  });

  it("removes the stores of processes that are gone, never a live one's", () => {
    const sweep = path.join(dir, 'sweep');
    fs.mkdirSync(sweep);
    // A pid that is not running: the highest free one below the kernel's limit.
    let dead = 4_194_000;
    for (; ; dead--) {
      try {
        process.kill(dead, 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') break;
      }
    }
    fs.writeFileSync(path.join(sweep, `plan-${dead}-abcd1234.db`), '');
    fs.writeFileSync(path.join(sweep, `plan-${process.ppid}-abcd1234.db`), '');
    const store = PlanStore.create(sweep);
    store.close();
    expect(fs.readdirSync(sweep)).toEqual([`plan-${process.ppid}-abcd1234.db`]);
  });
});
