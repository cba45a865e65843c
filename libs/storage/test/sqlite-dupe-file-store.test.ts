import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryDupeFileStore, type DupeFile } from '@filer/engine';
import { SqliteDupeFileStore } from '../src/state/sqlite-dupe-file-store.js';
import { SpillingDupeFiles } from '../src/dupes/spilling-dupe-files.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dupe-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = fc.record({
  path: fc.string({ unit: fc.constantFrom('a', 'b', '/', 'é', '\u{1F600}'), maxLength: 6 }),
  size: fc.constantFrom(0, 1, 7, 2 ** 40),
  dev: fc.constantFrom(1, 2),
  ino: fc.integer({ min: 1, max: 6 }),
  mtimeSec: fc.integer({ min: 0, max: 2 ** 40 }),
  mtimeNsec: fc.integer({ min: 0, max: 999_999_999 }),
});

describe('SqliteDupeFileStore', () => {
  it('gives back the size groups the in-memory store gives, records and ranks exact, whatever the batches', () => {
    fc.assert(
      fc.property(
        fc.array(file, { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.boolean(),
        (files: DupeFile[], batch, withEmpty) => {
          const mem = new MemoryDupeFileStore();
          const sql = SqliteDupeFileStore.create(dir);
          try {
            for (let i = 0; i < files.length; i += batch) {
              mem.add(files.slice(i, i + batch));
              sql.add(files.slice(i, i + batch));
            }
            expect(sql.count).toBe(files.length);
            expect(sql.emptyCounts()).toEqual(mem.emptyCounts());
            expect([...sql.sizeGroups(withEmpty)]).toEqual([...mem.sizeGroups(withEmpty)]);
          } finally {
            sql.close();
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('SpillingDupeFiles holds files up to its bound, then moves them all to a store on disk', () => {
    const spill = new SpillingDupeFiles(3, dir);
    const f = (i: number): DupeFile => ({ path: `/f${i}`, size: 5, dev: 1, ino: i, mtimeSec: 0, mtimeNsec: 0 });
    spill.add([f(0), f(1), f(2)]);
    expect(spill.spilled).toBeUndefined();
    expect(spill.files).toHaveLength(3);
    spill.add([f(3)]);
    expect(spill.files).toHaveLength(0);
    expect(spill.count).toBe(4);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.db'))).toHaveLength(1);
    expect([...spill.spilled!.sizeGroups(false)].map((g) => g.map((r) => r.rank))).toEqual([[0, 1, 2, 3]]);
    spill.close();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('removes the store of a process that died, never that of a live one', () => {
    const dead = path.join(dir, 'dupes-999999999-0badf00d.db');
    const live = path.join(dir, `dupes-${process.ppid}-0badf00d.db`);
    fs.writeFileSync(dead, '');
    fs.writeFileSync(live, '');
    SqliteDupeFileStore.create(dir).close();
    expect(fs.readdirSync(dir)).toEqual([path.basename(live)]);
    fs.rmSync(live);
  });
});
