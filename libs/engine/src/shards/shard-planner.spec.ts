import { describe, expect, it } from 'vitest';
import { chunksOf, donateHalf, hashBatches, partitionActions, partitionBySize, splitStack } from './shard-planner.js';
import { rootTask } from '../walk/dir-task.js';

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

describe('splitStack', () => {
  it('deals a stack round-robin into at most four groups, losing and repeating none', () => {
    const stack = Array.from({ length: 10 }, (_, i) => rootTask(`/t/d${i}`));
    const groups = splitStack(stack);
    expect(groups.map((g) => g.map((t) => t.path))).toEqual([
      ['/t/d0', '/t/d4', '/t/d8'],
      ['/t/d1', '/t/d5', '/t/d9'],
      ['/t/d2', '/t/d6'],
      ['/t/d3', '/t/d7'],
    ]);
    expect(splitStack(stack.slice(0, 2))).toHaveLength(2);
    expect(splitStack([])).toEqual([]);
  });
});

describe('donateHalf', () => {
  it('takes the bottom half of a stack out of it (the shallowest directories)', () => {
    const stack = [1, 2, 3, 4, 5];
    expect(donateHalf(stack)).toEqual([1, 2]);
    expect(stack).toEqual([3, 4, 5]);
    expect(donateHalf([7])).toEqual([]);
  });
});

describe('partitionBySize', () => {
  it('keeps every file of a size in one shard, largest sizes first, closing a shard at the budget', () => {
    const bySize = new Map<number, string[]>([
      [10, ['a10', 'b10']],
      [300, ['a300', 'b300', 'c300']],
      [20, ['a20', 'b20']],
    ]);
    expect(partitionBySize(bySize, 4)).toEqual([
      ['a300', 'b300', 'c300', 'a20', 'b20'],
      ['a10', 'b10'],
    ]);
    expect(partitionBySize(bySize, 100)).toEqual([['a300', 'b300', 'c300', 'a20', 'b20', 'a10', 'b10']]);
  });

  it('takes a size with more files than a call may have arguments', () => {
    const many = Array.from({ length: 300_000 }, (_, i) => i);
    const parts = partitionBySize(new Map([[1, many]]), 10);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toHaveLength(300_000);
  });
});

describe('chunksOf', () => {
  it('streams consecutive pieces of the given size, the last one shorter', async () => {
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < 7; i++) yield i;
    }
    const out: number[][] = [];
    for await (const c of chunksOf(items(), 3)) out.push(c);
    expect(out).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });
});

describe('hashBatches', () => {
  it('cuts at the file count or the byte budget, whichever comes first, and says where each batch starts', () => {
    const sizes = [5, 5, 5, 20, 1, 1, 1, 1];
    const batches = hashBatches(sizes, (s) => s, 3, 12);
    expect(batches).toEqual([
      { start: 0, files: [5, 5, 5] },
      { start: 3, files: [20] },
      { start: 4, files: [1, 1, 1] },
      { start: 7, files: [1] },
    ]);
  });
});
