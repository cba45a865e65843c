import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as path from 'node:path';
import { parseKeepRule, relativeTo, type KeepRule } from './keep-rules.js';
import {
  hardlinkBlocker,
  planDedupe,
  planDedupeGroup,
  planDedupeGroups,
  quarantinePath,
  relativeLink,
  type DedupeOptions,
} from './plan-dedupe.js';
import type { DedupeCandidate, DedupeGroupInput } from './dedupe-types.js';

const ROOTS = ['/r/a', '/r/b', '/r/c'];
let nextIno = 1;
const file = (path: string, over: Partial<DedupeCandidate> = {}): DedupeCandidate => ({
  path,
  root: ROOTS.findIndex((r) => path.startsWith(r + '/')),
  dev: 1,
  ino: nextIno++,
  size: 10,
  mtimeNs: '1000',
  nlink: 1,
  uid: 1,
  gid: 1,
  mode: 0o644,
  ...over,
});
const group = (...files: DedupeCandidate[]): DedupeGroupInput => ({ size: 10, hash: 'h', files });
const opts = (over: Partial<DedupeOptions> = {}): DedupeOptions => ({
  op: 'hardlink',
  roots: ROOTS,
  keep: [],
  reference: new Set(),
  isolate: false,
  jobId: 'J',
  ...over,
});
const keep = (...rules: string[]): KeepRule[] => rules.map(parseKeepRule);
const keptOf = (g: DedupeGroupInput, o: Partial<DedupeOptions>): string | undefined => planDedupeGroup(g, opts(o))?.kept.path;

describe('keep rules', () => {
  it('without rules keeps the first path in path order', () => {
    expect(keptOf(group(file('/r/b/x'), file('/r/a/y')), {})).toBe('/r/a/y');
  });

  it('oldest and newest compare mtimes to the nanosecond (beyond 2^53)', () => {
    const g = group(file('/r/a/x', { mtimeNs: '1700000000000000002' }), file('/r/a/y', { mtimeNs: '1700000000000000001' }));
    expect(keptOf(g, { keep: keep('oldest') })).toBe('/r/a/y');
    expect(keptOf(g, { keep: keep('newest') })).toBe('/r/a/x');
  });

  it('shortest-path, longest-path and first-root', () => {
    const g = group(file('/r/b/x'), file('/r/a/deep/er/y'));
    expect(keptOf(g, { keep: keep('shortest-path') })).toBe('/r/b/x');
    expect(keptOf(g, { keep: keep('longest-path') })).toBe('/r/a/deep/er/y');
    expect(keptOf(g, { keep: keep('first-root') })).toBe('/r/a/deep/er/y');
  });

  it('first-root follows the order the roots were given', () => {
    const roots = ['/r/c', '/r/b', '/r/a'];
    const g: DedupeGroupInput = group({ ...file('/r/a/x'), root: 2 }, { ...file('/r/c/x'), root: 0 });
    expect(keptOf(g, { keep: keep('first-root'), roots })).toBe('/r/c/x');
  });

  it('path:GLOB prefers a matching copy (base name, or the path below its root)', () => {
    const g = group(file('/r/a/x.jpg'), file('/r/b/keep/x.jpg'));
    expect(keptOf(g, { keep: keep('path:keep/**') })).toBe('/r/b/keep/x.jpg');
    expect(keptOf(group(file('/r/a/x.tmp'), file('/r/a/y.jpg')), { keep: keep('path:*.jpg') })).toBe('/r/a/y.jpg');
  });

  it('the first rule that decides wins; a rule that ties passes on', () => {
    const g = group(file('/r/a/long/x', { mtimeNs: '5' }), file('/r/a/y', { mtimeNs: '5' }), file('/r/a/zz', { mtimeNs: '9' }));
    expect(keptOf(g, { keep: keep('oldest', 'longest-path') })).toBe('/r/a/long/x');
    expect(keptOf(g, { keep: keep('newest', 'longest-path') })).toBe('/r/a/zz');
  });

  it('rejects an unknown rule naming the flag', () => {
    expect(() => parseKeepRule('biggest')).toThrow(/--keep rule 'biggest'/);
    expect(() => parseKeepRule('path:')).toThrow(/E?invalid --keep/);
  });
});

describe('planDedupeGroup', () => {
  it('acts on every copy but the kept one, each freeing its size', () => {
    const sut = planDedupeGroup(group(file('/r/a/1'), file('/r/a/2'), file('/r/b/3')), opts())!;
    expect(sut.kept.path).toBe('/r/a/1');
    expect(sut.copies.map((c) => [c.copy.path, c.target, c.freed])).toEqual([
      ['/r/a/2', '/r/a/.filer-quarantine/J/2', 10],
      ['/r/b/3', '/r/b/.filer-quarantine/J/3', 10],
    ]);
  });

  it('a copy with another name outside the scan frees nothing', () => {
    expect(planDedupeGroup(group(file('/r/a/1'), file('/r/a/2', { nlink: 2 })), opts())!.copies[0].freed).toBe(0);
  });

  it('a reference root is never acted on and keeps the group a reference file', () => {
    const g = group(file('/r/a/1'), file('/r/b/2'), file('/r/b/3'), file('/r/c/4'));
    const sut = planDedupeGroup(g, opts({ reference: new Set([1]) }))!;
    expect(sut.kept.path).toBe('/r/b/2');
    expect(sut.copies.map((c) => c.copy.path)).toEqual(['/r/a/1', '/r/c/4']);
    expect(sut.untouched.map((c) => c.path)).toEqual(['/r/b/3']);
    expect(planDedupeGroup(group(file('/r/b/2'), file('/r/b/3')), opts({ reference: new Set([1]) }))).toBeUndefined();
  });

  it('--isolate counts only duplicates across roots', () => {
    expect(planDedupeGroup(group(file('/r/a/1'), file('/r/a/2')), opts({ isolate: true }))).toBeUndefined();
    const sut = planDedupeGroup(group(file('/r/a/1'), file('/r/a/2'), file('/r/b/3')), opts({ isolate: true }))!;
    expect(sut.copies.map((c) => c.copy.path)).toEqual(['/r/b/3']);
    expect(sut.untouched.map((c) => c.path)).toEqual(['/r/a/2']);
  });

  it('two names of one inode count once and are never acted on against each other', () => {
    const a = file('/r/a/1');
    const sut = planDedupeGroup(group(a, { ...a, path: '/r/a/1-link' }), opts());
    expect(sut).toBeUndefined();
  });

  it('symlink: the link text is relative to the copy’s directory; move-to keeps the path below the root', () => {
    expect(planDedupeGroup(group(file('/r/a/x/1'), file('/r/b/y/z/2')), opts({ op: 'symlink' }))!.copies[0].linkText).toBe(
      '../../../a/x/1',
    );
    expect(planDedupeGroup(group(file('/r/a/1'), file('/r/b/y/2')), opts({ op: 'move-to', moveTo: '/m' }))!.copies[0].target).toBe(
      '/m/y/2',
    );
    expect(relativeLink('/r/a/2', '/r/a/1')).toBe('1');
    expect(quarantinePath('/r/a', 'J', '/r/a/p/q')).toBe('/r/a/.filer-quarantine/J/p/q');
    // Joined by hand on the common path: always what path.join gives.
    const seg = fc.constantFrom('a', 'b', '.', '..', '', 'c.d');
    const p = fc.array(seg, { minLength: 0, maxLength: 4 }).map((x) => x.join('/'));
    fc.assert(
      fc.property(p, p, fc.constantFrom('J', '<job>', '.', '..', 'x/y'), fc.boolean(), (root, rel, job, under) => {
        const r = '/' + root;
        const copy = under ? `${r.endsWith('/') ? r : r + '/'}${rel}` : '/' + rel;
        expect(quarantinePath(r, job, copy)).toBe(path.posix.join(r, '.filer-quarantine', job, relativeTo(r, copy)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('planDedupe', () => {
  it('skips hard links across devices and between different owners or modes, unless --ignore-perms', () => {
    const gs = [group(file('/r/a/1'), file('/r/a/2', { mode: 0o600 })), group(file('/r/a/3'), file('/r/b/4', { dev: 2 }))];
    const sut = planDedupe(gs, opts());
    expect(sut.summary).toEqual({ groups: 0, files: 0, bytes: 0 });
    expect(sut.skipped.map((s) => s.reason.split(':')[0])).toEqual(['E_PERMS_DIFFER', 'E_CROSS_DEVICE']);
    expect(planDedupe(gs, opts({ ignorePerms: true })).summary).toEqual({ groups: 1, files: 1, bytes: 10 });
    expect(hardlinkBlocker(file('/r/a/1', { uid: 2 }), file('/r/a/2'), false)).toMatch(/^E_PERMS_DIFFER/);
  });

  it('move-to: two copies bound for one path — the second is skipped (E_CONFLICT)', () => {
    const sut = planDedupe(
      [group(file('/r/a/k'), file('/r/b/x'), file('/r/c/x'))],
      opts({ op: 'move-to', moveTo: '/m', keep: keep('first-root') }),
    );
    expect(sut.groups[0].copies.map((c) => c.target)).toEqual(['/m/x']);
    expect(sut.skipped[0].reason).toMatch(/^E_CONFLICT/);
  });

  it('planDedupeGroups: reads the groups one at a time and asks the claims it is given about each move-to target', () => {
    const gs = [group(file('/r/a/k'), file('/r/b/x')), group(file('/r/a/q'), file('/r/c/x')), group(file('/r/a/1'), file('/r/a/2'))];
    const read: number[] = [];
    const asked: string[] = [];
    const claims = { claim: (t: string): boolean => (asked.push(t), t !== '/m/x' || asked.length === 1) };
    const sut = planDedupeGroups(
      (function* () {
        for (let i = 0; i < gs.length; i++) yield (read.push(i), gs[i]);
      })(),
      opts({ op: 'move-to', moveTo: '/m', keep: keep('first-root') }),
      claims,
    );
    const first = sut.next();
    expect(read).toEqual([0]);
    expect(first.value).toMatchObject({ plan: { kept: { path: '/r/a/k' } }, skipped: [] });
    const rest = [...sut];
    expect(read).toEqual([0, 1, 2]);
    expect(asked).toEqual(['/m/x', '/m/x', '/m/2']);
    // The second group's only copy is skipped: it yields its skip and no plan.
    expect(rest.map((o) => [o.plan?.kept.path, o.skipped.map((s) => s.reason.split(':')[0])])).toEqual([
      [undefined, ['E_CONFLICT']],
      ['/r/a/1', []],
    ]);
  });

  it('property: every group keeps exactly one file per inode set, acts on no reference file, and the totals add up', () => {
    const arbFile = fc.record({
      root: fc.integer({ min: 0, max: 2 }),
      name: fc.stringMatching(/^[a-z]{1,4}$/),
      ino: fc.integer({ min: 1, max: 6 }),
      mtime: fc.integer({ min: 0, max: 3 }),
      nlink: fc.integer({ min: 1, max: 2 }),
    });
    const arbGroup = fc.uniqueArray(arbFile, { minLength: 2, maxLength: 6, selector: (f) => `${f.root}/${f.name}` });
    fc.assert(
      fc.property(
        fc.array(arbGroup, { maxLength: 5 }),
        fc.subarray([0, 1, 2]),
        fc.boolean(),
        fc.subarray(['oldest', 'newest', 'shortest-path', 'longest-path', 'first-root', 'path:a*']),
        (gs, ref, isolate, rules) => {
          const groups = gs.map((fs, k) =>
            group(
              ...fs.map((f) => ({
                ...file(`${ROOTS[f.root]}/${f.name}`),
                ino: k * 100 + f.ino,
                mtimeNs: String(f.mtime),
                nlink: f.nlink,
              })),
            ),
          );
          const o = opts({ reference: new Set(ref), isolate, keep: keep(...rules), ignorePerms: true });
          const sut = planDedupe(groups, o);
          let files = 0;
          let bytes = 0;
          for (const p of sut.groups) {
            const inodes = new Set(p.copies.map((c) => c.copy.ino));
            expect(inodes.size).toBe(p.copies.length);
            expect(inodes.has(p.kept.ino)).toBe(false);
            for (const c of p.copies) {
              expect(o.reference.has(c.copy.root)).toBe(false);
              if (isolate) expect(c.copy.root).not.toBe(p.kept.root);
            }
            const all = [p.kept, ...p.copies.map((c) => c.copy), ...p.untouched];
            if (all.some((f) => o.reference.has(f.root))) expect(o.reference.has(p.kept.root)).toBe(true);
            files += p.copies.length;
            bytes += p.copies.reduce((n, c) => n + c.freed, 0);
          }
          expect(sut.summary).toMatchObject({ files, bytes, groups: sut.groups.length });
        },
      ),
    );
  });
});
