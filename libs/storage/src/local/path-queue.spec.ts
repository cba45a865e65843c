import * as fs from 'node:fs';
import * as os from 'node:os';
import { describe, expect, it } from 'vitest';
import { PathQueue } from './path-queue.js';

const spillDirs = (): string[] => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('filer-exec-'));

describe('PathQueue', () => {
  it('gives back 200,000 paths in order, cut anywhere and through its spill file, then removes that file', async () => {
    const before = new Set(spillDirs());
    const q = new PathQueue();
    const paths = Array.from({ length: 200_000 }, (_, i) => `dir ${i % 97}/fïlé-${i}-€.txt`);
    const bytes = Buffer.from(paths.map((p) => p + '\0').join(''));
    // Chunks of odd sizes cut paths and multi-byte characters in two.
    for (let at = 0; at < bytes.length; at += 4093) q.write(bytes.subarray(at, at + 4093));
    expect(spillDirs().filter((d) => !before.has(d))).toHaveLength(1);
    q.close();
    const got: string[] = [];
    for (let p = await q.next(); p !== undefined; p = await q.next()) got.push(p);
    expect(got).toEqual(paths);
    q.dispose();
    expect(spillDirs().filter((d) => !before.has(d))).toEqual([]);
  });

  it('wakes every waiting reader when paths arrive and when it closes', async () => {
    const q = new PathQueue();
    const readers = [q.next(), q.next(), q.next()];
    q.write('a\0b');
    q.close();
    expect((await Promise.all(readers)).sort()).toEqual(['a', 'b', undefined]);
    expect(await q.next()).toBeUndefined();
  });

  it('keeps the walk’s order while it spills and is read at the same time', async () => {
    const q = new PathQueue();
    const got: string[] = [];
    const reader = (async () => {
      for (let p = await q.next(); p !== undefined; p = await q.next()) got.push(p);
    })();
    for (let round = 0; round < 5; round++) {
      q.write(Array.from({ length: 40_000 }, (_, i) => `r${round}-${i}\0`).join(''));
      await new Promise((r) => setImmediate(r));
    }
    q.close();
    await reader;
    q.dispose();
    expect(got).toEqual(Array.from({ length: 5 }, (_, r) => Array.from({ length: 40_000 }, (_, i) => `r${r}-${i}`)).flat());
  });
});
