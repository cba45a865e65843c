import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FilerError, unsafeKeyReason, type FileEntry } from '@filer/core';
import { compileTemplate, type MoveRequest, type OnConflict } from '@filer/engine';
import { admitPath, RealPaths } from '@filer/storage';
import { nameFiles, planLocalMoves, renameRequests, transferTarget } from '@filer/storage/batch';

/**
 * Battery 11: every check between untrusted text and a path, fed hostile strings over random
 * symlink trees. Each checker either throws a FilerError or returns a path that leads inside
 * the root — "leads" as an independent resolver (`lead`, below) walks it the way the kernel
 * would when creating it, following every symlink, dangling ones included. Trees are built once
 * (WORLDS of them) and shared by all runs: building per run would cost more than the checks.
 * Seeded: a failure prints its seed and path; FC_SEED=<n> explores another seed.
 */

const SEED = Number(process.env.FC_SEED ?? 20261207);
const RUNS = 10_000;
const params = (runs: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs, endOnFailure: false });

const HOSTILE = ['..', '.', '/', '\\', '%2e', '%252e', '\uFF0E', '\u2215', '\0', 'a', 'x'.repeat(300)];
/** Names every world gives a meaning to (a directory, a file or a symlink somewhere in it). */
const NAMES = ['d0', 'd1', 'f0', 'l0', 'l1', 'l2', 'l3', 'l4', 'missing', 'root', 'outside', 'root-evil', 'alias'];

/** Where a world's symlinks may point: relative, absolute, dangling, looping, in and out of the root. */
const LINK_TARGETS = [
  'd0',
  'd0/d1',
  '.',
  '..',
  '../..',
  '../outside',
  '../outside/d0',
  '../root',
  '../root-evil',
  '../root/d0',
  'missing',
  'missing/deeper',
  '../outside/missing',
  '../outside/missing/deeper',
  '{root}',
  '{root}/d0',
  '{root}/missing',
  '{out}',
  '{out}/d0',
  '{out}/missing/deeper',
  '{out}/l0',
  '/',
  '/etc',
  'l0',
  'l1',
  'l2',
  '../l0',
  'f0',
];

interface World {
  base: string;
  root: string;
  outside: string;
  alias: string;
  /** Each symlink and what it points to: printed when a property fails in this world. */
  links: string[];
}

const WORLDS = 8;
let top: string;
let worlds: World[];

/** One world: root/{d0/d1, f0, s0..s2, l0..l4, d0/l0..l1}, outside/{d0, f0, l0..l2}, root-evil, alias → root. */
function buildWorld(dir: string, picks: number[]): World {
  const root = path.join(dir, 'root');
  const outside = path.join(dir, 'outside');
  for (const d of [path.join(root, 'd0/d1'), path.join(outside, 'd0'), path.join(dir, 'root-evil')]) fs.mkdirSync(d, { recursive: true });
  for (const f of ['f0', 's0', 's1', 's2']) fs.writeFileSync(path.join(root, f), f);
  fs.writeFileSync(path.join(outside, 'f0'), 'outside');
  fs.symlinkSync(root, path.join(dir, 'alias'));
  const places = [
    ...['l0', 'l1', 'l2', 'l3', 'l4'].map((l) => path.join(root, l)),
    path.join(root, 'd0/l0'),
    path.join(root, 'd0/l1'),
    ...['l0', 'l1', 'l2'].map((l) => path.join(outside, l)),
  ];
  const links = places.map((at, i) => {
    const target = LINK_TARGETS[picks[i] % LINK_TARGETS.length].replace('{root}', root).replace('{out}', outside);
    fs.symlinkSync(target, at);
    return `${path.relative(dir, at)} -> ${target}`;
  });
  return { base: dir, root, outside, alias: path.join(dir, 'alias'), links };
}

beforeAll(() => {
  top = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-containment-')));
  const picks = fc.sample(fc.array(fc.nat(), { minLength: 10, maxLength: 10 }), { seed: SEED, numRuns: WORLDS });
  worlds = picks.map((p, i) => buildWorld(path.join(top, `w${i}`), p));
});
afterAll(() => fs.rmSync(top, { recursive: true, force: true }));

/**
 * Where `p` leads, walked component by component as the kernel would to create it: every
 * symlink followed (a dangling one too: creating through it lands where it points), '..' taken
 * from the real directory reached so far. Past a missing component the rest is joined as text,
 * '..' folded — the most a later path.join could make of it. 'loop' when more than 40 links are
 * met (ELOOP: nothing can be created there).
 */
function lead(p: string): string | 'loop' {
  const parts = (s: string): string[] => s.split('/').filter((x) => x !== '' && x !== '.');
  const todo = parts(p);
  let cur = '/';
  let missing = false;
  let hops = 0;
  while (todo.length > 0) {
    const s = todo.shift()!;
    if (s === '..') {
      cur = path.dirname(cur);
      continue;
    }
    const next = cur === '/' ? '/' + s : cur + '/' + s;
    if (!missing) {
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(next, { throwIfNoEntry: false });
      } catch {
        st = undefined; // ENOTDIR, ENAMETOOLONG, a NUL byte: nothing there
      }
      if (st?.isSymbolicLink()) {
        if (++hops > 40) return 'loop';
        const target = fs.readlinkSync(next);
        todo.unshift(...parts(target));
        if (target.startsWith('/')) cur = '/';
        continue;
      }
      if (st === undefined) missing = true;
    }
    cur = next;
  }
  return cur;
}

/** Whether any lstat on the way to `p` failed other than by absence (its resolution is then not well defined). */
function resolvesCleanly(p: string): boolean {
  if (p.includes('\0') || Buffer.byteLength(p) > 4095) return false;
  for (let d = p; d !== '/'; d = path.dirname(d)) {
    try {
      fs.statSync(d);
    } catch (e) {
      // ELOOP, ENOTDIR, ENAMETOOLONG. Not `throwIfNoEntry: false`: Node 22 reads ENOTDIR as "no entry" there.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
  }
  return true;
}

const inside = (p: string, dir: string): boolean => p === dir || p.startsWith(dir + '/');

/** Where a file created at `target` would land: its directory led, its last name as written (never followed). */
function landing(target: string): string | 'loop' | 'bad-name' {
  const name = target.slice(target.lastIndexOf('/') + 1);
  if (name === '' || name === '.' || name === '..' || name.includes('\0')) return 'bad-name';
  const dir = lead(target.slice(0, target.lastIndexOf('/')) || '/');
  return dir === 'loop' ? dir : path.join(dir, name);
}

const token = fc.constantFrom(...HOSTILE, ...NAMES);
/** A relative path: segments of one or two tokens joined by '/' (and tokens are '/' themselves at times). */
const relPath = fc
  .array(
    fc.array(token, { minLength: 1, maxLength: 2 }).map((t) => t.join('')),
    { maxLength: 6 },
  )
  .map((s) => s.join('/'));
const worldIndex = fc.nat(WORLDS - 1);
const prefixKind = fc.constantFrom('root', 'alias', 'outside', 'evil', 'base', 'none', 'd0');

function prefixOf(w: World, kind: string): string {
  switch (kind) {
    case 'root':
      return w.root + '/';
    case 'alias':
      return w.alias + '/';
    case 'outside':
      return w.outside + '/';
    case 'evil':
      return w.root + '-evil/';
    case 'base':
      return w.base + '/';
    case 'd0':
      return w.root + '/d0/';
    default:
      return '';
  }
}

function expectFilerError(e: unknown, codes: string[]): void {
  expect(e, String(e)).toBeInstanceOf(FilerError);
  expect(codes).toContain((e as FilerError).code);
}

const where = (w: World): string => `world ${path.basename(w.base)}: ${w.links.join(', ')}`;

describe('battery 11: no checker lets a hostile path lead outside its root (property)', () => {
  it(`admitPath (roots, mustExist; dest, !mustExist): a FilerError, or a path that leads inside the allowed root (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(worldIndex, prefixKind, relPath, fc.boolean(), (wi, kind, rel, mustExist) => {
        const w = worlds[wi];
        const p = prefixOf(w, kind) + rel;
        let admitted: string;
        try {
          admitted = admitPath(p, [w.root], mustExist ? 'roots.0' : 'options.dest', { mustExist });
        } catch (e) {
          expectFilerError(e, ['E_PATH_NOT_ALLOWED', 'E_ROOT_NOT_FOUND']);
          return;
        }
        const to = lead(admitted);
        expect(to !== 'loop' && inside(to, w.root), `${JSON.stringify(p)} admitted as ${admitted}, leads to ${to}; ${where(w)}`).toBe(true);
        // The path returned is the one the job uses: it leads where the input led.
        expect(lead(p), `${JSON.stringify(p)} admitted as ${admitted}`).toBe(to);
      }),
      params(RUNS),
    );
  });

  it(`planLocalMoves with \`within\`: every accepted target lands inside it, every refused one is a conflict (${RUNS} runs)`, () => {
    const policy = fc.constantFrom<OnConflict>('fail', 'suffix', 'overwrite', 'skip');
    const target = fc.tuple(prefixKind, relPath).map(([k, rel]) => ({ k, rel }));
    fc.assert(
      fc.property(
        worldIndex,
        fc.constantFrom('root', 'alias', 'd0'),
        fc.array(target, { minLength: 1, maxLength: 3 }),
        policy,
        (wi, withinKind, targets, onConflict) => {
          const w = worlds[wi];
          const within = prefixOf(w, withinKind).slice(0, -1);
          const requests: MoveRequest[] = targets.map(({ k, rel }, i) => ({
            source: path.join(w.root, `s${i}`),
            target: prefixOf(w, k) + rel,
            size: 1,
            within,
          }));
          const plan = planLocalMoves(requests, onConflict);
          const ceiling = lead(within) as string;
          for (const a of plan.actions) {
            const at = landing(a.target);
            expect(
              at !== 'loop' && at !== 'bad-name' && inside(at, ceiling),
              `accepted ${a.source} → ${a.target} lands at ${at}; ${where(w)}`,
            ).toBe(true);
          }
          // Nothing vanishes: each request is an action, a conflict, unchanged or (skip) skipped.
          const skippedOrRefused = onConflict === 'skip' ? plan.skipped : plan.conflicts.length;
          expect(plan.actions.length + skippedOrRefused + plan.unchanged).toBe(requests.length);
          for (const r of requests) {
            const at = landing(r.target);
            if (at === 'bad-name' || at === 'loop' || !inside(at, ceiling))
              expect(
                plan.actions.map((a) => a.source),
                `${r.target} leads to ${at}; ${where(w)}`,
              ).not.toContain(r.source);
          }
        },
      ),
      params(RUNS),
    );
  });

  it(`RealPaths.file: the text back when it has an empty, '.' or '..' segment, else where the kernel would create it (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(worldIndex, prefixKind, relPath, (wi, kind, rel) => {
        const w = worlds[wi];
        const p = (prefixOf(w, kind) || w.root + '/') + rel;
        const sut = new RealPaths().file(p);
        const odd = p
          .split('/')
          .slice(1)
          .some((s) => s === '' || s === '.' || s === '..');
        if (odd) {
          expect(sut).toBe(p); // never folded: the planner refuses it as an invalid name
          return;
        }
        expect(path.basename(sut)).toBe(path.basename(p));
        // Where the resolution is well defined, RealPaths agrees with the kernel's walk; where it is
        // not (a loop, a component through a file, a name too long), creating there fails anyway.
        if (resolvesCleanly(path.dirname(p))) expect(path.dirname(sut), `${JSON.stringify(p)}; ${where(w)}`).toBe(lead(path.dirname(p)));
      }),
      params(RUNS),
    );
  });

  it(`S3 keys: unsafeKeyReason + transferTarget append a key below --dest verbatim or refuse it; the planner keeps it inside (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(worldIndex, fc.constantFrom('root', 'alias', 'd0'), relPath, fc.boolean(), (wi, destKind, key, flatten) => {
        const w = worlds[wi];
        const dest = prefixOf(w, destKind).slice(0, -1);
        const uri = `s3://bucket/pre/${key}`;
        let t: string;
        try {
          t = transferTarget(dest, flatten, 's3://bucket/pre', uri);
        } catch (e) {
          expectFilerError(e, ['E_UNSAFE_KEY']);
          const rel = flatten ? key.slice(key.lastIndexOf('/') + 1) : key;
          expect(unsafeKeyReason(rel), key).toBeDefined();
          return;
        }
        const rel = flatten ? key.slice(key.lastIndexOf('/') + 1) : key;
        // Accepted: nothing was folded away, so the text below --dest is the key itself.
        expect(t, JSON.stringify(key)).toBe(dest + '/' + rel);
        expect(rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\\') && !s.includes('\0'))).toBe(true);
        // A safe key can still pass through a symlink below --dest: the planner's `within` catches it.
        const plan = planLocalMoves([{ source: uri, target: t, size: 1, within: dest }], 'fail');
        for (const a of plan.actions) {
          const at = landing(a.target);
          expect(at !== 'loop' && at !== 'bad-name' && inside(at, lead(dest) as string), `${key} lands at ${at}; ${where(w)}`).toBe(true);
        }
      }),
      params(RUNS),
    );
  });
});

describe('battery 11: rename templates cannot lead a file out of its root (property)', () => {
  /** Files with awkward names, in the root and below it, as a walk lists them. */
  const NAMES_ON_DISK = ['s0', 'f0', '..x', '%2e%2e', '\uFF0E\uFF0E', 'a\\b', '.hidden', 'x'.repeat(250)];
  let entries: (w: World, spelled: string) => FileEntry[];
  beforeAll(() => {
    for (const w of worlds)
      for (const n of NAMES_ON_DISK) for (const d of [w.root, path.join(w.root, 'd0')]) fs.writeFileSync(path.join(d, n), n);
    entries = (w, spelled) =>
      NAMES_ON_DISK.flatMap((n) =>
        [spelled, spelled + '/d0'].map((d) => ({ path: `${d}/${n}`, kind: 'file' as const, size: n.length, mtimeMs: 1_700_000_000_000 })),
      );
  });

  const FIELDS = [
    '{name}',
    '{stem}',
    '{ext}',
    '{parent}',
    '{counter:2}',
    '{size}',
    '{mtime:YYYY}',
    '{mtime:YYYY/MM}',
    '{mtime:[..]}',
    '{{',
    '}}',
  ];
  const template = fc
    .array(fc.constantFrom(...HOSTILE, ...NAMES, ...FIELDS, '{', '}', '{nope}', '{counter:0}'), { minLength: 1, maxLength: 7 })
    .map((parts) => parts.join(''));

  it(`compileTemplate + nameFiles + renameRequests + planLocalMoves: no accepted target outside the root (${RUNS / 5} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        worldIndex,
        fc.constantFrom('root', 'alias'),
        template,
        fc.constantFrom<OnConflict>('fail', 'suffix'),
        async (wi, spelledAs, t, onConflict) => {
          const w = worlds[wi];
          const spelled = prefixOf(w, spelledAs).slice(0, -1);
          let compiled;
          try {
            compiled = compileTemplate(t);
          } catch (e) {
            expectFilerError(e, ['E_INVALID_ARGUMENT']);
            return;
          }
          const named = await nameFiles(entries(w, spelled), { kind: 'template', template: compiled });
          const plan = planLocalMoves(renameRequests(named, [spelled]), onConflict);
          for (const a of plan.actions) {
            const at = landing(a.target);
            expect(
              at !== 'loop' && at !== 'bad-name' && inside(at, w.root),
              `${JSON.stringify(t)}: ${a.source} → ${a.target}; ${where(w)}`,
            ).toBe(true);
          }
          expect(plan.actions.length + plan.conflicts.length + plan.unchanged).toBe(named.length);
        },
      ),
      params(RUNS / 5),
    );
  });
});

describe('battery 11: the cases these properties found', () => {
  it('admitPath refuses a dangling symlink as a destination (it would lead wherever it points), also written with a trailing slash', () => {
    const w = worlds[0];
    const dangling = path.join(w.root, 'dangling');
    fs.symlinkSync(path.join(w.outside, 'not-yet', 'there'), dangling);
    try {
      for (const p of [dangling, dangling + '/', dangling + '//', dangling + '/x', dangling + '/x/y'])
        expect(() => admitPath(p, [w.root], 'options.dest', { mustExist: false }), p).toThrow(
          /options\.dest '.*' is a symbolic link to a path that does not exist/,
        );
      // Outside the roots, the answer does not say whether the link exists.
      fs.symlinkSync(path.join(w.root, 'nowhere'), path.join(w.outside, 'dangling'));
      expect(() => admitPath(path.join(w.outside, 'dangling'), [w.root], 'options.dest', { mustExist: false })).toThrow(
        /is not inside an allowed root/,
      );
    } finally {
      fs.rmSync(dangling);
      fs.rmSync(path.join(w.outside, 'dangling'), { force: true });
    }
  });

  it('a target that is its root itself is outside-root, so suffix cannot turn it into a sibling `root (1)`', () => {
    const w = worlds[0];
    for (const onConflict of ['fail', 'suffix', 'overwrite'] as const) {
      const plan = planLocalMoves([{ source: path.join(w.root, 's0'), target: w.root, size: 1, within: w.root }], onConflict);
      expect(plan.actions, onConflict).toEqual([]);
      expect(plan.conflicts.map((c) => c.kind)).toEqual(['outside-root']);
    }
  });
});
