import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, runFiler, type ProcessResult } from '@filer/testing';

/**
 * `find --ext/--min-size/--max-size/--newer/--older` are applied by the native lister (listRecords)
 * for paths, ndjson, json and csv output: it must print the portable walker's bytes
 * (FILER_FS_SCAN_ADDON=off, every entry filtered in JS) for every filter, visibility and ignore
 * setting, with and without --follow (which the lister leaves to the walk), on one thread and on
 * several: the same records, the same number of bytes, the same errors.
 */

let root: string;
const BASE_S = 1_700_000_000;
const NAMES = [
  'a.csv',
  'B.CSV',
  'c.Csv',
  'd.csv.bak',
  'e.tar.gz',
  'F.TAR.GZ',
  'csv',
  'x.cs',
  'q"u,o.csv',
  'new\nline.csv',
  'ü.csv',
  'plain',
];
const SIZES = [0, 1, 1999, 2000, 2001, 999_999, 1_000_000, 1_000_001];

beforeAll(() => {
  const rand = mulberry32(16);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-native-filters-'));
  const dirs = [root];
  for (let i = 0; dirs.length < 120; i++) {
    const parent = dirs[Math.floor(rand() * dirs.length)];
    const d = path.join(parent, i % 9 === 0 ? `.hdir${i}` : i % 7 === 0 ? `d,"${i}"` : `d${i}`);
    fs.mkdirSync(d);
    dirs.push(d);
  }
  for (let i = 0; i < 1500; i++) {
    const d = dirs[Math.floor(rand() * dirs.length)];
    const name = (i % 10 === 0 ? '.' : '') + `${i}_${NAMES[i % NAMES.length]}`;
    const p = path.join(d, name);
    const fd = fs.openSync(p, 'w');
    fs.ftruncateSync(fd, SIZES[Math.floor(rand() * SIZES.length)]);
    // Whole seconds around the --newer/--older cut-offs below, some exactly on them.
    const t = BASE_S + Math.floor(rand() * 5) - 2 + (i % 3 === 0 ? 0.5 : 0);
    fs.futimesSync(fd, t, t);
    fs.closeSync(fd);
  }
  // Ignore files below the root: their directories and everything under them take the general walk.
  fs.writeFileSync(path.join(dirs[5], '.gitignore'), '*.csv\n');
  fs.writeFileSync(path.join(dirs[9], '.filerignore'), 'd*\n');
  fs.writeFileSync(path.join(dirs[14], '.ignore'), '!*.CSV\n*.tar.gz\n');
  // Symlinks: to a file, to a directory, dangling; --follow resolves them (and loops back).
  fs.symlinkSync(path.join(dirs[20], fs.readdirSync(dirs[20])[0] ?? 'x'), path.join(dirs[3], 'link.csv'));
  fs.symlinkSync(dirs[30], path.join(dirs[4], 'dirlink'));
  fs.symlinkSync('nowhere.csv', path.join(dirs[6], 'dangling.csv'));
  fs.symlinkSync(root, path.join(dirs[7], 'loop'));
  // A name that is not UTF-8, with an extension the filter keeps: its directory takes the general walk.
  fs.writeFileSync(Buffer.concat([Buffer.from(dirs[8] + '/caf'), Buffer.from([0xe9]), Buffer.from('.csv')]), 'x');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const iso = (s: number): string => new Date(s * 1000).toISOString();

const FILTERS: string[][] = [
  ['--ext', 'csv'],
  ['--ext', 'CSV,tar.gz'],
  ['--ext', 'csv', '--min-size', '2k'],
  ['--min-size', '2000', '--max-size', '2001'],
  ['--max-size', '1M'],
  ['--min-size', '1M'],
  ['--ext', 'csv', '--newer', iso(BASE_S - 1), '--older', iso(BASE_S + 1)],
  [],
];
const VISIBILITY: string[][] = [[], ['--hidden'], ['--no-ignore'], ['--hidden', '--no-ignore', '--max-depth', '3']];
const FORMATS: string[][] = [[], ['-0'], ['--format', 'ndjson'], ['--format', 'csv'], ['--format', 'json']];

// Each filter with each visibility, the format rotating, so every pair of the three axes appears.
const CASES = FILTERS.flatMap((f, i) => VISIBILITY.map((v, j) => [...f, ...v, ...FORMATS[(i + j) % FORMATS.length]]));

const run = (args: string[], env: Record<string, string>): Promise<ProcessResult> =>
  runFiler(['find', root, ...args], { env: { ...process.env, ...env } });

/**
 * The records, sorted: the native walk lists a directory in readdir's order, the portable one in
 * libuv's sorted order, so only the order may differ (json's commas follow it: dropped here).
 */
function records(r: ProcessResult): string[] {
  const text = r.stdout;
  const parts = text.includes('\0') ? text.split('\0') : text.split('\n').map((l) => l.replace(/},$/, '}'));
  return parts.sort();
}

function expectSame(n: ProcessResult, p: ProcessResult): void {
  expect([n.code, n.stderr.split('\n').sort()]).toEqual([p.code, p.stderr.split('\n').sort()]);
  expect(records(n)).toEqual(records(p));
  expect(n.stdoutBytes.length).toBe(p.stdoutBytes.length);
}

describe('find with native filters: the portable walk’s output', () => {
  it.each(CASES.map((c) => [c.join(' '), c]))('%s, one thread: the same records', async (_label, args) => {
    const [n, p] = await Promise.all([
      run([...args, '--threads', '0'], {}),
      run([...args, '--threads', '0'], { FILER_FS_SCAN_ADDON: 'off' }),
    ]);
    expectSame(n, p);
    expect(n.stdoutBytes.length).toBeGreaterThan(100);
  });

  it.each([
    ['--ext', 'csv', '--hidden', '--no-ignore'],
    ['--ext', 'csv', '--min-size', '2k', '--format', 'ndjson'],
    ['--max-size', '2000', '--hidden', '--format', 'csv'],
  ])('%s … threaded: the same records', async (...args) => {
    const env = { FILER_WALK_SPAWN_AFTER_MS: '0' };
    const [n, p] = await Promise.all([
      run([...args, '--threads', '2'], env),
      run([...args, '--threads', '2'], { ...env, FILER_FS_SCAN_ADDON: 'off' }),
    ]);
    expectSame(n, p);
  });

  it.each([
    ['--ext', 'csv', '--follow'],
    ['--ext', 'csv', '--min-size', '2k', '--follow', '--hidden', '--no-ignore', '--format', 'ndjson'],
  ])('%s … (--follow: the walk’s own filters) the same records', async (...args) => {
    const [n, p] = await Promise.all([
      run([...args, '--threads', '0'], {}),
      run([...args, '--threads', '0'], { FILER_FS_SCAN_ADDON: 'off' }),
    ]);
    expectSame(n, p);
    expect(n.stderr).toContain('loop');
  });
});
