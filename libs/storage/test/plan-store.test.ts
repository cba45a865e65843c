import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FileEntry } from '@filer/core';
import { planMoves, type MoveRequest, type OnConflict, type TargetView } from '@filer/engine';
import { PlanStore } from '../src/state/plan-store.js';
import { SqliteDupeFileStore } from '../src/state/sqlite-dupe-file-store.js';
import { planStored } from '../src/batch/stored-transfer-plan.js';
import { RenameFeed } from '../src/batch/stored-rename-plan.js';
import { batchRequests } from '../src/batch/batch-requests.js';
import { compileNamer } from '../src/batch/name-files.js';
import { planLocalMoves } from '../src/batch/plan-local-moves.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-plan-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const view = (existing: readonly string[], caseInsensitive: boolean): TargetView => {
  const fold = (p: string): string => (caseInsensitive ? p.toLowerCase() : p);
  const set = new Set(existing.map(fold));
  return { caseInsensitive, exists: (p) => set.has(fold(p)) };
};

/**
 * The same requests planned in memory (planMoves) and through a plan store on disk. With `listing`
 * (an S3 destination's keys), the store plans against its own stored copy of it, as the CLI does;
 * with `roots`, each request's `within` is stored as its scope.
 */
function bothWays(
  reqs: readonly MoveRequest[],
  v: TargetView,
  policy: OnConflict,
  { listing, roots, page }: { listing?: readonly string[]; roots?: readonly string[]; page?: number } = {},
) {
  const store = PlanStore.create(dir, { page });
  try {
    store.add(
      reqs.map((r, i) => ({
        root: 0,
        sortKey: String(i).padStart(6, '0'),
        source: r.source,
        target: r.target,
        size: r.size,
        sourceId: r.sourceId,
        ...(roots === undefined ? {} : { scope: roots.indexOf(r.within!) }),
        ...(r.invalidName === undefined ? {} : { invalidName: r.invalidName }),
      })),
    );
    // Listed in pages, one key listed twice (a retried page): the store keeps it once.
    if (listing !== undefined) for (let i = 0; i < listing.length; i += 2) store.addListed(listing.slice(i, i + 3));
    const { listed } = store;
    store.seal(v.caseInsensitive ? (p) => p.toLowerCase() : undefined);
    const totals = planStored(store, listing === undefined ? v : { caseInsensitive: false, exists: (p) => listed.has(p) }, policy, roots);
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
        // A page of 1 or 2: claims of earlier pages are read back from the table.
        fc.constantFrom(1, 2, 4096),
        (triples, others, policy, caseInsensitive, page) => {
          const reqs = triples.map(([s, t, size]) => ({ source: '/d/' + s, target: '/d/' + t, size }));
          const v = view([...triples.map(([s]) => '/d/' + s), ...others.map((o) => '/d/' + o)], caseInsensitive);
          const { stored, memory } = bothWays(reqs, v, policy, { page });
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

  it('plans S3 keys against the stored listing as planMoves does against the listing held (case-sensitive; property)', () => {
    // Keys that differ only in case are two objects on S3: neither may be taken for the other.
    const name = fc.constantFrom('a', 'A', 'b', 'B', 'c', 'a (1)', 'x/y', 'X/y', 'ü');
    const key = (n: string): string => 's3://bkt/p/' + n;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, name, fc.nat(9)), { selector: ([s]) => s, maxLength: 7 }),
        fc.array(name, { maxLength: 4 }),
        fc.constantFrom('fail', 'skip', 'suffix', 'overwrite') as fc.Arbitrary<OnConflict>,
        (triples, others, policy) => {
          // An object's identity (its ETag too) is journaled as the walk found it.
          const reqs = triples.map(([s, t, size]) => ({
            source: key(s),
            target: key(t),
            size,
            sourceId: { dev: 0, ino: 0, size, mtimeNs: '1700000000000000000', etag: `etag-${s}` },
          }));
          const listing = [...triples.map(([s]) => key(s)), ...others.map(key)];
          const { stored, memory } = bothWays(reqs, view(listing, false), policy, { listing });
          expect(stored.actions).toEqual(memory.actions);
          expect(stored.conflicts).toEqual(memory.conflicts);
          expect(stored.totals.unchanged).toBe(memory.unchanged);
          expect(stored.totals.skipped).toBe(memory.skipped);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('plans renames kept inside their own roots (a within per scope, invalid names) exactly as planMoves does (property)', () => {
    const roots = ['/d/r0', '/d/r1'];
    const file = fc.tuple(fc.constantFrom(0, 1), fc.constantFrom('a', 'b', 'A', 'a (1)', 'x'));
    const at = ([root, name]: [number, string]): string => `${roots[root]}/${name}`;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(file, fc.oneof(file, fc.constant<[number, string]>([0, '..'])), fc.boolean()), {
          selector: ([s]) => at(s),
          maxLength: 7,
        }),
        fc.constantFrom('fail', 'skip', 'suffix') as fc.Arbitrary<OnConflict>,
        fc.boolean(),
        (triples, policy, caseInsensitive) => {
          // A rename's request: within the root its source was found under; some named by a replacement containing '/'.
          const reqs: MoveRequest[] = triples.map(([s, t, bad]) => ({
            source: at(s),
            target: at(t),
            size: 1,
            within: roots[s[0]],
            ...(bad ? { invalidName: "the new name contains '/'" } : {}),
          }));
          const v = view(
            triples.map(([s]) => at(s)),
            caseInsensitive,
          );
          const { stored, memory } = bothWays(reqs, v, policy, { roots });
          expect(stored.actions).toEqual(memory.actions.map(({ within: _, ...a }) => a));
          expect(stored.conflicts).toEqual(memory.conflicts);
          expect(stored.totals.unchanged).toBe(memory.unchanged);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers from the stored listing byte for byte, and counts a key put by the job as listed', () => {
    const store = PlanStore.create(dir);
    try {
      store.addListed(['s3://b/p/Photo.JPG', 's3://b/p/ü.txt']);
      const { listed } = store;
      expect(listed.has('s3://b/p/Photo.JPG')).toBe(true);
      expect(listed.has('s3://b/p/photo.jpg')).toBe(false);
      // NFC and NFD spell ü differently: two keys on S3.
      expect(listed.has('s3://b/p/u\u0308.txt')).toBe(false);
      expect(listed.has('s3://b/p/new')).toBe(false);
      listed.add('s3://b/p/new');
      expect(listed.has('s3://b/p/new')).toBe(true);
    } finally {
      store.close();
    }
  });

  it('a local rename fed through RenameFeed plans what batchRequests + planLocalMoves plan ({counter} in path order across roots)', async () => {
    const tree = path.join(dir, 'rename-tree');
    const roots = [path.join(tree, 'b'), path.join(tree, 'a')];
    const files = ['a/z.txt', 'a/sub/y.txt', 'a/x.txt', 'b/x.txt', 'b/3.txt', 'b/1.txt'];
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(tree, f)), { recursive: true });
      fs.writeFileSync(path.join(tree, f), f);
    }
    const entries: FileEntry[] = files.map((f) => {
      const st = fs.statSync(path.join(tree, f), { bigint: true });
      return {
        path: path.join(tree, f),
        kind: 'file',
        size: Number(st.size),
        mtimeMs: Number(st.mtimeMs),
        dev: Number(st.dev),
        ino: Number(st.ino),
        mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
        mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
      };
    });
    for (const [to, policy] of [
      ['{counter}{ext}', 'fail'],
      ['x.txt', 'suffix'],
      ['../{name}', 'fail'],
    ] as const) {
      const namer = compileNamer({ to });
      const { requests } = await batchRequests({ kind: 'rename', roots, namer }, entries);
      const memory = planLocalMoves(requests, policy);
      const store = PlanStore.create(dir);
      try {
        const feed = new RenameFeed({ roots, namer }, store);
        feed.add(entries.slice(3));
        feed.add(entries.slice(0, 3));
        const totals = await feed.plan(policy);
        expect([...store.actions()], to).toEqual(memory.actions.map(({ within: _, ...a }) => a));
        expect([...store.conflicts()], to).toEqual(memory.conflicts);
        expect(totals.actions).toBe(memory.actions.length);
      } finally {
        store.close();
      }
    }
  });

  it('orders a long chain so that each target is vacated first, the way planMoves does', () => {
    const reqs = ['a', 'aa', 'aaa', 'aaaa'].map((s) => ({ source: `/d/${s}`, target: `/d/${s}a`, size: 1 }));
    const { stored, memory } = bothWays(reqs, view(['/d/a', '/d/aa', '/d/aaa', '/d/aaaa'], false), 'fail');
    expect(stored.actions.map((a) => a.source)).toEqual(['/d/aaaa', '/d/aaa', '/d/aa', '/d/a']);
    expect(stored.actions).toEqual(memory.actions);
  });

  it('plans a few hundred requests (claims of earlier pages read back from the table) exactly as planMoves does', () => {
    // Targets shared by up to five requests, some onto other requests' sources (chains), some existing.
    const reqs = Array.from({ length: 300 }, (_, i) => ({
      source: `/d/s${i}`,
      target: i % 7 === 0 ? `/d/s${i + 3}` : `/d/t${i % 60}`,
      size: i,
    }));
    const v = view([...reqs.map((r) => r.source), '/d/t5', '/d/t6 (1)'], false);
    for (const policy of ['suffix', 'fail', 'overwrite'] as const)
      for (const page of [33, 4096]) {
        const { stored, memory } = bothWays(reqs, v, policy, { page });
        // Every request is an action or a conflict; suffix makes every one an action.
        expect(stored.actions.length + stored.conflicts.length).toBe(300);
        expect(stored.actions.length).toBe(policy === 'suffix' ? 300 : policy === 'fail' ? 68 : 69);
        expect(stored.actions).toEqual(memory.actions);
        expect(stored.conflicts).toEqual(memory.conflicts);
      }
  });

  it("removes the stores (plan and dupes spill) of processes that are gone, never a live one's", () => {
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
    const files = [
      `plan-${dead}-abcd1234.db`,
      `plan-${process.ppid}-abcd1234.db`,
      `dupes-${dead}-abcd1234.db`,
      `dupes-${dead}-abcd1234.db-journal`,
    ];
    for (const f of files) fs.writeFileSync(path.join(sweep, f), '');
    PlanStore.create(sweep).close();
    // Each kind of store sweeps its own files only.
    expect(fs.readdirSync(sweep).sort()).toEqual([
      `dupes-${dead}-abcd1234.db`,
      `dupes-${dead}-abcd1234.db-journal`,
      `plan-${process.ppid}-abcd1234.db`,
    ]);
    SqliteDupeFileStore.create(sweep).close();
    expect(fs.readdirSync(sweep)).toEqual([`plan-${process.ppid}-abcd1234.db`]);
  });
});
