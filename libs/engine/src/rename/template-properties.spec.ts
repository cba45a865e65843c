import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FilerError } from '@filer/core';
import { planMoves, suffixedTarget, type MoveRequest, type OnConflict, type TargetView } from '../batch/plan-moves.js';
import { comparePaths } from '../output/sort-entries.js';
import { compileTemplate, type TemplateInput } from './rename-template.js';
import type { WallTime } from './wall-time.js';

/**
 * Battery 13: templates and dates. Rendering is total, the planner refuses every name a template
 * can make that is not a plain path below the root, plans are idempotent for the templates where
 * that can hold (see below), and `--on-conflict suffix` always ends without ever aiming two files
 * at one name or at a file that stays. Pure: the tree is a set of paths with fixed metadata.
 * Seeded: a failure prints its seed and path; FC_SEED=<n> explores another seed.
 */

const SEED = Number(process.env.FC_SEED ?? 13);
const params = (runs: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs });

/** Wall times as EXIF records them (parseExifDate's range: a leap second, any day up to 31). */
const wallTime: fc.Arbitrary<WallTime> = fc.record({
  year: fc.integer({ min: 1, max: 9999 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 31 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  second: fc.integer({ min: 0, max: 60 }),
  millisecond: fc.integer({ min: 0, max: 999 }),
});
const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const input: fc.Arbitrary<TemplateInput> = fc.record(
  {
    name: fc.string({ unit: 'binary', maxLength: 40 }),
    parent: fc.string({ unit: 'binary', maxLength: 20 }),
    size: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    mtime: wallTime,
    capture: fc.record({ time: wallTime, source: fc.constantFrom('DateTimeOriginal' as const, 'CreateDate' as const) }),
    counter: fc.integer({ min: 1, max: 10_000_000 }),
    hash: hex,
  },
  { requiredKeys: ['name', 'parent', 'size', 'mtime', 'counter'] },
);

/** Template text: fields (valid or not), date tokens, braces, brackets, separators, any character. */
const templateText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '{name}',
        '{stem}',
        '{ext}',
        '{parent}',
        '{size}',
        '{counter}',
        '{counter:3}',
        '{hash}',
        '{hash:6}',
        '{date}',
        '{mtime}',
      ),
      fc.constantFrom('{date:', '{mtime:', '{counter:', '{hash:', '{stem:', '{', '}', '{{', '}}', ':', '[', ']', '/', '..', '.', '\0'),
      fc.constantFrom('YYYY', 'YY', 'MM', 'M', 'DD', 'D', 'HH', 'H', 'mm', 'm', 'ss', 's', 'SSS', '-', '_', ' '),
      fc.constantFrom('0', '13', '99', 'x', 'nope'),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
    { minLength: 1, maxLength: 10 },
  )
  .map((p) => p.join(''));

const NAME_MAX = 255;
const PATH_MAX = 4095;

/** The oracle: a target is a plain path strictly below `/r` that Linux can create. */
function plainBelowRoot(target: string): boolean {
  if (!target.startsWith('/r/') || Buffer.byteLength(target) > PATH_MAX || target.includes('\0')) return false;
  return target
    .slice(3)
    .split('/')
    .every((s) => s !== '' && s !== '.' && s !== '..' && Buffer.byteLength(s) <= NAME_MAX);
}

const view = (existing: Iterable<string>, caseInsensitive = false): TargetView => {
  const fold = (p: string): string => (caseInsensitive ? p.toLowerCase() : p);
  const set = new Set([...existing].map(fold));
  return { caseInsensitive, exists: (p) => set.has(fold(p)) };
};

describe('battery 13: rendering is total, and the planner refuses what is not a plain name', () => {
  it('compileTemplate either compiles or throws E_INVALID_ARGUMENT; a compiled template renders any EXIF-like input (20,000 runs)', () => {
    let compiled = 0;
    fc.assert(
      fc.property(templateText, input, (text, inp) => {
        let t;
        try {
          t = compileTemplate(text);
        } catch (e) {
          expect(e).toBeInstanceOf(FilerError);
          expect((e as FilerError).code).toBe('E_INVALID_ARGUMENT');
          return;
        }
        compiled++;
        expect(typeof t.render(inp)).toBe('string');
        expect(typeof t.render({ ...inp, capture: undefined, hash: undefined })).toBe('string');
      }),
      params(20_000),
    );
    expect(compiled).toBeGreaterThan(2_000); // not vacuous: many templates compiled
  });

  it('a rendered target becomes an action only when it is a plain path below the root; otherwise a naming conflict (20,000 runs)', () => {
    fc.assert(
      fc.property(templateText, input, fc.constantFrom<OnConflict>('fail', 'suffix', 'skip'), (text, inp, onConflict) => {
        let rendered: string;
        try {
          rendered = compileTemplate(text).render(inp);
        } catch {
          return;
        }
        const target = rendered.startsWith('/') ? rendered : '/r/' + rendered;
        const plan = planMoves([{ source: '/r/source.bin', target, size: 1, within: '/r' }], view(['/r/source.bin']), onConflict);
        if (target === '/r/source.bin') return void expect(plan.unchanged).toBe(1);
        if (plainBelowRoot(target)) {
          expect(plan.conflicts, JSON.stringify(target)).toEqual([]);
          expect(plan.actions.map((a) => a.target)).toEqual([target]);
        } else {
          expect(plan.actions, JSON.stringify(target)).toEqual([]);
          if (onConflict === 'skip') expect(plan.skipped).toBe(1);
          else expect(['invalid-name', 'name-too-long', 'outside-root']).toContain(plan.conflicts[0]?.kind);
        }
      }),
      params(20_000),
    );
  });
});

describe('battery 13: --on-conflict suffix always ends and never collides', () => {
  const dirs = ['/d', '/d/s'];
  const stems = ['x', 'x (1)', 'x (2)', 'X', 'y', 'y (1)', '.x', 'x.tar'];
  const exts = ['', '.jpg', '.JPG', '.gz'];
  const pathArb = fc
    .tuple(fc.constantFrom(...dirs), fc.constantFrom(...stems), fc.constantFrom(...exts))
    .map(([d, s, e]) => `${d}/${s}${e}`);

  it('suffixedTarget returns the first free `name (n).ext` beside the target, whatever is taken (5,000 runs)', () => {
    fc.assert(
      fc.property(pathArb, fc.uniqueArray(fc.nat({ max: 60 }), { maxLength: 60 }), (target, takenNs) => {
        const slash = target.lastIndexOf('/');
        const name = target.slice(slash + 1);
        const dot = name.lastIndexOf('.');
        const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
        const variant = (n: number): string => `${target.slice(0, slash + 1)}${stem} (${n})${ext}`;
        const taken = new Set(takenNs.map(variant));
        const sut = suffixedTarget(target, (p) => taken.has(p));
        const n = Array.from({ length: 62 }, (_, i) => i + 1).find((i) => !taken.has(variant(i)))!;
        expect(sut).toBe(variant(n));
      }),
      params(5_000),
    );
  });

  it('planMoves with suffix: every request is planned, unchanged or a conflict; no two actions to one name; no target a file that stays (10,000 runs)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(pathArb, pathArb), { selector: ([s]) => s, maxLength: 8 }),
        fc.uniqueArray(pathArb, { maxLength: 8 }),
        fc.boolean(),
        (pairs, others, caseInsensitive) => {
          const fold = (p: string): string => (caseInsensitive ? p.toLowerCase() : p);
          const sources = pairs.map(([s]) => s);
          if (new Set(sources.map(fold)).size < sources.length) return; // one file cannot have two names
          const existing = new Set([...sources, ...others.filter((o) => !sources.some((s) => fold(s) === fold(o)))]);
          const requests: MoveRequest[] = pairs.map(([source, target]) => ({ source, target, size: 1 }));
          const plan = planMoves(requests, view(existing, caseInsensitive), 'suffix');
          expect(plan.actions.length + plan.unchanged + plan.conflicts.length).toBe(requests.length);
          expect(plan.conflicts.every((c) => c.kind === 'cycle')).toBe(true); // suffix resolves every other collision
          expect(new Set(plan.actions.map((a) => fold(a.target))).size).toBe(plan.actions.length);
          // Applied in order, each target is free when its turn comes: nothing is ever overwritten.
          const present = new Set([...existing].map(fold));
          for (const a of plan.actions) {
            expect(present.has(fold(a.target)), `${a.source} → ${a.target} over a file that is there`).toBe(false);
            present.delete(fold(a.source));
            present.add(fold(a.target));
          }
          // A suffixed target stays beside the one asked for.
          for (const a of plan.actions) {
            const asked = requests.find((r) => r.source === a.source)!.target;
            const dir = asked.slice(0, asked.lastIndexOf('/') + 1);
            expect(a.target.startsWith(dir) && !a.target.slice(dir.length).includes('/')).toBe(true);
          }
        },
      ),
      params(10_000),
    );
  });

  it('ends even when hundreds of variants are taken', () => {
    const taken = new Set(Array.from({ length: 500 }, (_, i) => `/d/x (${i + 1}).jpg`));
    const requests = Array.from({ length: 50 }, (_, i) => ({ source: `/d/s${i}`, target: '/d/x.jpg', size: 1 }));
    const plan = planMoves(requests, view([...taken, '/d/x.jpg', ...requests.map((r) => r.source)]), 'suffix');
    expect(plan.actions.map((a) => a.target)).toEqual(Array.from({ length: 50 }, (_, i) => `/d/x (${501 + i}).jpg`));
  });
});

/**
 * Idempotent plans: renaming with a template, then planning the same template on the renamed tree,
 * changes nothing. That holds for templates whose rendering does not depend on the name or place
 * it produced — built from the capture date, mtime, size, hash and parent directory, literal text
 * without '.' or '/', ending in {ext} — and for {name} and {stem}{ext}; and for `L{counter:W}{ext}`
 * in one directory with W digits enough (path order is then counter order). It cannot hold for:
 * templates with the current name and more ({stem}_x{ext} grows every run); a '/' (each run goes one
 * directory deeper, and {parent} changes); {counter} across directories or too narrow (the new
 * names sort in another order than the old ones); and '.' in a template for a file without an
 * extension (the next run finds the text after it an extension). Plans here are carried out on a
 * simulated tree; libs/storage/test/template-properties.test.ts does it on disk.
 */
describe('battery 13: planning the same template again on the renamed tree changes nothing', () => {
  interface Meta {
    size: number;
    mtime: WallTime;
    capture?: { time: WallTime; source: 'DateTimeOriginal' };
    hash: string;
  }
  /** Few distinct values, so that files collide and --on-conflict suffix has work to do. */
  const meta: fc.Arbitrary<Meta> = fc.record(
    {
      size: fc.constantFrom(0, 7, 4096),
      mtime: fc.constantFrom<WallTime>(
        { year: 2024, month: 5, day: 1, hour: 9, minute: 8, second: 7, millisecond: 45 },
        { year: 1999, month: 12, day: 31, hour: 23, minute: 59, second: 60, millisecond: 999 },
      ),
      capture: fc.constantFrom({
        time: { year: 2021, month: 2, day: 3, hour: 4, minute: 5, second: 6, millisecond: 0 },
        source: 'DateTimeOriginal' as const,
      }),
      hash: fc.constantFrom('0'.repeat(64), 'ab'.repeat(32), 'c0ffee'.repeat(10) + 'abcd'),
    },
    { requiredKeys: ['size', 'mtime', 'hash'] },
  );
  const fileName = fc.tuple(
    fc.constantFrom('img', 'IMG_0001', 'a', 'b', 'photo', 'x (1)'),
    fc.constantFrom('.jpg', '.JPG', '.txt', '', '.tar.gz'),
  );
  const tree = (dirs: string[]): fc.Arbitrary<Map<string, Meta>> =>
    fc
      .uniqueArray(fc.tuple(fc.constantFrom(...dirs), fileName, meta), {
        selector: ([d, [s, e]]) => `${d}/${s}${e}`,
        minLength: 1,
        maxLength: 8,
      })
      .map((fs) => new Map(fs.map(([d, [s, e], m]) => [`${d}/${s}${e}`, m])));

  const dateFormat = fc
    .array(fc.constantFrom('YYYY', 'YY', 'MM', 'DD', 'HH', 'mm', 'ss', 'SSS', '-', '_'), { minLength: 1, maxLength: 6 })
    .map((t) => t.join(''));
  const stablePart = fc.oneof(
    fc.stringMatching(/^[a-z0-9_-]{1,4}$/),
    dateFormat.map((f) => `{date:${f}}`),
    dateFormat.map((f) => `{mtime:${f}}`),
    fc.constantFrom('{size}', '{hash:8}', '{hash:1}', '{parent}', '{date}', '{mtime}'),
  );
  const stableTemplate = fc.oneof(
    fc.array(stablePart, { minLength: 1, maxLength: 4 }).map((p) => p.join('') + '{ext}'),
    fc.constantFrom('{name}', '{stem}{ext}'),
  );

  /** Plans `template` on `files` the way `filer rename` does (path order is {counter}'s order). */
  function plan(files: Map<string, Meta>, template: string, onConflict: OnConflict) {
    const t = compileTemplate(template);
    const paths = [...files.keys()].sort(comparePaths);
    const requests = paths.map((p, i) => {
      const m = files.get(p)!;
      const dir = p.slice(0, p.lastIndexOf('/'));
      const rendered = t.render({ name: p.slice(dir.length + 1), parent: dir.slice(dir.lastIndexOf('/') + 1), counter: i + 1, ...m });
      return { source: p, target: `${dir}/${rendered}`, size: m.size, within: '/r' };
    });
    return planMoves(requests, view(files.keys()), onConflict);
  }

  /** Carries a plan out on the simulated tree, checking that each target is free when its turn comes. */
  function carryOut(files: Map<string, Meta>, actions: { source: string; target: string }[]): Map<string, Meta> {
    const next = new Map(files);
    for (const a of actions) {
      expect(next.has(a.target), `${a.target} is taken`).toBe(false);
      next.set(a.target, next.get(a.source)!);
      next.delete(a.source);
    }
    return next;
  }

  function idempotent(files: Map<string, Meta>, template: string, onConflict: OnConflict): boolean {
    const first = plan(files, template, onConflict);
    if (first.conflicts.length > 0) return false; // filer changes nothing: there is no renamed tree
    const renamed = carryOut(files, first.actions);
    const again = plan(renamed, template, onConflict);
    expect(again.conflicts, `${template} again on ${[...renamed.keys()].join(', ')}`).toEqual([]);
    expect(
      again.actions.map((a) => `${a.source} → ${a.target}`),
      `${template} again`,
    ).toEqual([]);
    expect(again.unchanged).toBe(renamed.size);
    return true;
  }

  it('for templates of the date, mtime, size, hash and parent ending in {ext}, and {name}, in two directories, with fail and suffix (5,000 runs)', () => {
    let applied = 0;
    fc.assert(
      fc.property(tree(['/r', '/r/sub']), stableTemplate, fc.constantFrom<OnConflict>('fail', 'suffix'), (files, template, onConflict) => {
        if (idempotent(files, template, onConflict)) applied++;
      }),
      params(5_000),
    );
    expect(applied).toBeGreaterThan(2_500);
  });

  it('for L{counter:W}{ext} in one directory, W wide enough (2,000 runs)', () => {
    fc.assert(
      fc.property(tree(['/r']), fc.stringMatching(/^[a-z_-]{0,3}$/), fc.integer({ min: 1, max: 4 }), (files, lead, w) => {
        expect(idempotent(files, `${lead}{counter:${w}}{ext}`, 'fail')).toBe(true);
      }),
      params(2_000),
    );
  });

  it('a suffixed name from the first run is kept by the second (it was planned onto itself and refused as a cycle)', () => {
    const m = { size: 1, mtime: { year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, millisecond: 0 }, hash: 'a'.repeat(64) };
    const files = new Map(['/r/a.txt', '/r/b.txt', '/r/c.txt'].map((f) => [f, m]));
    const first = plan(files, 'x{ext}', 'suffix');
    expect(first.actions.map((a) => a.target)).toEqual(['/r/x.txt', '/r/x (1).txt', '/r/x (2).txt']);
    const again = plan(carryOut(files, first.actions), 'x{ext}', 'suffix');
    expect(again).toMatchObject({ actions: [], conflicts: [], unchanged: 3 });
  });

  it('is not promised for the templates named above; an example of each', () => {
    const m = { size: 1, mtime: { year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, millisecond: 0 }, hash: 'a'.repeat(64) };
    const changesAgain = (files: string[], template: string): boolean => {
      const first = plan(new Map(files.map((f) => [f, m])), template, 'fail');
      const renamed = carryOut(new Map(files.map((f) => [f, m])), first.actions);
      const again = plan(renamed, template, 'fail');
      return again.actions.length + again.conflicts.length > 0;
    };
    expect(changesAgain(['/r/a.jpg'], '{stem}_x{ext}')).toBe(true);
    expect(changesAgain(['/r/a.jpg'], '{mtime:YYYY}/{name}')).toBe(true);
    expect(changesAgain(['/r/a.jpg', '/r/sub/b.jpg', '/r/z.jpg'], '{counter:3}{ext}')).toBe(true);
    expect(
      changesAgain(
        Array.from({ length: 10 }, (_, i) => `/r/f${i}.jpg`),
        '{counter}{ext}',
      ),
    ).toBe(true);
    expect(changesAgain(['/r/README'], '{mtime:YYYY.MM}{ext}')).toBe(true);
  });
});
