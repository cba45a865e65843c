import { describe, expect, it } from 'vitest';
import { partitionActions } from './finalize.js';

const move = (source: string, target: string) => ({ source, target });

describe('partitionActions', () => {
  it('keeps a chain in one partition, in plan order, whatever the partition size', () => {
    // c→d must run before b→c, which must run before a→b: the planner ordered them so.
    const chain = [move('/c', '/d'), move('/b', '/c'), move('/a', '/b')];
    const others = Array.from({ length: 10 }, (_, i) => move(`/x${i}`, `/y${i}`));
    const parts = partitionActions([others[0], ...chain, ...others.slice(1)], 2);
    const holding = parts.filter((p) => p.some((a) => a.source === '/a' || a.source === '/b' || a.source === '/c'));
    expect(holding).toHaveLength(1);
    expect(holding[0].filter((a) => chain.includes(a))).toEqual(chain);
  });

  it('spreads independent actions over partitions of the given size and loses none', () => {
    const actions = Array.from({ length: 25 }, (_, i) => move(`/s${i}`, `/t${i}`));
    const parts = partitionActions(actions, 10);
    expect(parts.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(parts.flat()).toEqual(actions);
  });
});
