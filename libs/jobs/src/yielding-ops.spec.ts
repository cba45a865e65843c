import { describe, expect, it } from 'vitest';
import { planMoves, planMovesPaced, type MoveRequest, type TargetView } from '@filer/engine';
import { timeSlices, yieldingOps } from './yielding-ops.js';

/** Synchronous work the way LocalFileOps does it: each call holds the thread for `ms`. */
class BusyOps {
  calls = 0;
  work(ms: number): number {
    const end = performance.now() + ms;
    while (performance.now() < end);
    return ++this.calls;
  }
  async already(): Promise<string> {
    return 'async';
  }
}

/** Awaits `n` calls in a row, as the engine does, and counts how often a 10 ms timer fired meanwhile. */
async function timerTicksDuring(ops: BusyOps, n: number): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    for (let i = 0; i < n; i++) await ops.work(5);
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

describe('yieldingOps', () => {
  it('lets timers run between awaited synchronous calls, which plain awaits never do', async () => {
    expect(await timerTicksDuring(new BusyOps(), 60)).toBe(0);
    expect(await timerTicksDuring(yieldingOps(new BusyOps(), 20), 60)).toBeGreaterThanOrEqual(5);
  });

  it('keeps results, order, this and errors', async () => {
    const ops = yieldingOps(new BusyOps(), 0);
    expect(await ops.work(0)).toBe(1);
    expect(await ops.work(0)).toBe(2);
    expect(await ops.already()).toBe('async');
    const failing = yieldingOps({
      fail(): never {
        throw new Error('EACCES');
      },
    });
    expect(() => failing.fail()).toThrow('EACCES');
  });
});

describe('timeSlices', () => {
  it('lets timers run during a paced plan (as a worker plans), which gives the same plan as the unpaced one', async () => {
    // 400 requests, every existence check holding the thread 0.5 ms: 200 ms of synchronous planning.
    const requests: MoveRequest[] = Array.from({ length: 400 }, (_, i) => ({ source: `/s/f${i}`, target: `/t/f${i % 390}`, size: i }));
    const view: TargetView = {
      caseInsensitive: false,
      exists: (p) => {
        const end = performance.now() + 0.5;
        while (performance.now() < end);
        return p.endsWith('7');
      },
    };
    const ticksDuring = async (run: () => Promise<unknown>): Promise<number> => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        await run();
      } finally {
        clearInterval(timer);
      }
      return ticks;
    };
    expect(await ticksDuring(() => planMovesPaced(requests, view, 'suffix', () => undefined))).toBe(0);
    let paced: unknown;
    expect(await ticksDuring(async () => (paced = await planMovesPaced(requests, view, 'suffix', timeSlices(20))))).toBeGreaterThanOrEqual(
      4,
    );
    expect(paced).toEqual(planMoves(requests, view, 'suffix'));
  });
});
