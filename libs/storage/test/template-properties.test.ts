import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FileEntry } from '@filer/core';
import { applyJob, comparePaths, compileTemplate, type OnConflict } from '@filer/engine';
import { LocalFileOps } from '@filer/storage';
import { nameFiles, planLocalMoves, renameRequests } from '@filer/storage/batch';
import { parseExifDate } from '@filer/storage/media';
import { openStateDb, SqliteJournal } from '@filer/storage/state';

/**
 * Battery 13 on the storage side: EXIF dates parse totally and render back exactly, and a rename
 * planned again on the tree it produced — on disk, with the real planner and apply — is a no-op
 * for the templates where that must hold (libs/engine/src/rename/template-properties.spec.ts
 * names them and the ones where it cannot). Seeded; FC_SEED=<n> explores another seed.
 */

const SEED = Number(process.env.FC_SEED ?? 1313);
const params = (runs: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs });

const digits = (n: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });

describe('battery 13: EXIF dates', () => {
  it('parseExifDate never throws, and returns a wall time within EXIF ranges or nothing (20,000 runs)', () => {
    // The shape of an EXIF date-time with any digits in it (month 00 or 99, hour 24…), and loose ends.
    const [dateSep, middle, timeSep] = [fc.constantFrom(':', '-', '/'), fc.constantFrom(' ', 'T', '_'), fc.constantFrom(':', ':', '.')];
    const exifLike = fc
      .tuple(digits(4), dateSep, digits(2), dateSep, digits(2), middle, digits(2), timeSep, digits(2), timeSep, digits(2))
      .chain((parts) =>
        fc
          .tuple(fc.constantFrom('', ' ', '\t'), fc.constantFrom('', '.5', '.123456', '+02:00', 'Z', '\0', ' junk'))
          .map(([lead, tail]) => lead + parts.join('') + tail),
      );
    fc.assert(
      fc.property(fc.oneof(exifLike, fc.string({ unit: 'binary' }), fc.anything()), (value) => {
        const t = parseExifDate(value);
        if (t === undefined) return;
        expect(t.year).toBeGreaterThanOrEqual(1);
        expect(t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31).toBe(true);
        expect(t.hour <= 23 && t.minute <= 59 && t.second <= 60 && t.millisecond <= 999).toBe(true);
      }),
      params(20_000),
    );
  });

  it('a valid EXIF date-time renders back through {date:…} exactly, fraction included (10,000 runs)', () => {
    const sut = compileTemplate('{date:YYYY:MM:DD HH:mm:ss.SSS}');
    const two = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'));
    const exif = fc
      .tuple(
        fc.integer({ min: 1, max: 9999 }),
        two(1, 12),
        two(1, 31),
        two(0, 23),
        two(0, 59),
        two(0, 60),
        digits(3),
        fc.constantFrom(':', '-'),
      )
      .map(([y, mo, d, h, mi, s, ms, sep]) => ({
        text: `${String(y).padStart(4, '0')}${sep}${mo}${sep}${d} ${h}:${mi}:${s}.${ms}`,
        canonical: `${String(y).padStart(4, '0')}:${mo}:${d} ${h}:${mi}:${s}.${ms}`,
      }));
    fc.assert(
      fc.property(exif, ({ text, canonical }) => {
        const time = parseExifDate(text);
        expect(time, text).toBeDefined();
        const rendered = sut.render({
          name: 'x.jpg',
          parent: 'p',
          size: 0,
          mtime: { year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 },
          capture: { time: time!, source: 'DateTimeOriginal' },
          counter: 1,
        });
        expect(rendered).toBe(canonical);
      }),
      params(10_000),
    );
  });
});

describe('battery 13: a rename planned again on the tree it produced changes nothing (on disk)', () => {
  let base: string;
  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-template-props-'));
    // A tmpfs of its own: apply flushes each batch (syncfs), which on a shared disk waits for everyone's writes.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', base]);
  });
  afterAll(() => {
    execFileSync('umount', ['-l', base]);
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** The files below `dir` as `filer rename` walks them (with identities, in path order). */
  function list(dir: string): FileEntry[] {
    return fs
      .readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((rel) => path.join(dir, rel))
      .filter((p) => fs.lstatSync(p).isFile())
      .map((p) => {
        const st = fs.lstatSync(p, { bigint: true });
        return {
          path: p,
          kind: 'file' as const,
          size: Number(st.size),
          mtimeMs: Number(st.mtimeMs),
          dev: Number(st.dev),
          ino: Number(st.ino),
          mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
          mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
        };
      })
      .sort((a, b) => comparePaths(a.path, b.path));
  }

  async function plan(root: string, template: string, onConflict: OnConflict) {
    const named = await nameFiles(list(root), { kind: 'template', template: compileTemplate(template) });
    return planLocalMoves(renameRequests(named, [root]), onConflict);
  }

  const dateFormat = fc.constantFrom('YYYY-MM-DD', 'YYYYMMDD_HHmmss', 'YY_MM', 'HHmmss-SSS');
  const template = fc.oneof(
    fc
      .array(
        fc.oneof(
          fc.stringMatching(/^[a-z0-9_-]{1,3}$/),
          dateFormat.map((f) => `{date:${f}}`),
          dateFormat.map((f) => `{mtime:${f}}`),
          fc.constantFrom('{size}', '{parent}', '{hash:4}'),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((p) => p.join('') + '{ext}'),
    fc.constantFrom('{name}', '{stem}{ext}'),
  );
  const files = fc.uniqueArray(
    fc.tuple(
      fc.constantFrom('', 'sub/'),
      fc.constantFrom('img', 'a', 'x (1)', 'IMG_0042'),
      fc.constantFrom('.jpg', '.txt', '', '.tar.gz'),
      fc.nat(3),
    ),
    { selector: ([d, s, e]) => d + s + e, minLength: 1, maxLength: 6 },
  );
  // Few sizes and mtimes, so that names collide and suffix has work to do.
  const MTIMES = [new Date('2024-05-01T09:08:07.045Z'), new Date('1999-12-31T23:59:59Z')];

  let k = 0;
  let db: ReturnType<typeof openStateDb>;
  beforeAll(() => void (db = openStateDb(path.join(base, 'state.db'))));
  afterAll(() => db.close());
  it('for templates of the date, mtime, size, hash and parent ending in {ext}, and {name}, with fail and suffix (150 runs)', async () => {
    let renamed = 0;
    await fc.assert(
      fc.asyncProperty(files, template, fc.constantFrom<OnConflict>('fail', 'suffix'), async (spec, t, onConflict) => {
        const root = path.join(base, `t${k++}`);
        fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
        for (const [d, s, e, v] of spec) {
          const p = path.join(root, d + s + e);
          fs.writeFileSync(p, 'x'.repeat(v % 2));
          fs.utimesSync(p, MTIMES[v >> 1], MTIMES[v >> 1]);
        }
        try {
          const first = await plan(root, t, onConflict);
          if (first.conflicts.length > 0 || first.actions.length === 0) return;
          const journal = new SqliteJournal(db);
          const job = journal.create(
            'rename',
            first.actions.map((a) => ({ source: a.source, target: a.target, size: a.size, overwrite: false, sourceId: a.sourceId })),
            { onConflict, verify: false },
          );
          expect((await applyJob(job, journal, new LocalFileOps())).job.state).toBe('completed');
          renamed++;
          const again = await plan(root, t, onConflict);
          expect({ actions: again.actions.map((a) => `${a.source} → ${a.target}`), conflicts: again.conflicts }, t).toEqual({
            actions: [],
            conflicts: [],
          });
        } finally {
          fs.rmSync(root, { recursive: true, force: true });
        }
      }),
      params(150),
    );
    expect(renamed).toBeGreaterThan(40); // not vacuous: many runs renamed something
  }, 120_000);
});
