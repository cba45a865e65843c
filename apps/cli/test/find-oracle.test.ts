import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, runFiler, runProcess, splitRecords } from '@filer/testing';

/**
 * Oracle test: on a generated tree of 20k+ files, `filer find ROOT --hidden --no-ignore [filters]`
 * must print exactly the paths GNU find prints for the equivalent predicates.
 */

const FILE_COUNT = 20_500;
const DIR_COUNT = 700;
const MAX_DIR_DEPTH = 5; // files end up at depths 1..6
const DAY_S = 86_400;

interface Generated {
  root: string;
  /** Every entry `find ROOT -mindepth 1` sees. */
  total: number;
  /** A cut-off (whole seconds) that some files' mtimes equal exactly, to test strictness. */
  newerCut: number;
  /** A cut-off between whole seconds. */
  olderCut: number;
}

function generate(): Generated {
  const rand = mulberry32(20240501);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-oracle-'));
  fs.chmodSync(root, 0o755);
  const base = 1_760_000_000; // a fixed "now" in whole seconds: the tree is the same on every run
  const newerCut = base - 7 * DAY_S;
  const olderCut = base - 30 * DAY_S + 0.5;

  // Directories: each attaches to a random shallower one. `targets/` holds no symlinks, so
  // links into it cannot make loops (find -L and filer -L then walk the same finite graph).
  const dirs: { rel: string; depth: number; inTargets: boolean }[] = [
    { rel: '', depth: 0, inTargets: false },
    { rel: 'targets', depth: 1, inTargets: true },
  ];
  fs.mkdirSync(path.join(root, 'targets'));
  for (let i = 0; dirs.length < DIR_COUNT; i++) {
    const parent = pick(dirs);
    if (parent.depth >= MAX_DIR_DEPTH) continue;
    const r = rand();
    const name = r < 0.06 ? `skip_${i}` : r < 0.12 ? `Dir ${i}` : r < 0.16 ? `.hid${i}` : r < 0.2 ? `data_dir${i}` : `d${i}`;
    const rel = parent.rel === '' ? name : `${parent.rel}/${name}`;
    fs.mkdirSync(path.join(root, rel));
    dirs.push({ rel, depth: parent.depth + 1, inTargets: parent.inTargets });
  }

  const EXTS = ['.csv', '.CSV', '.Csv', '.txt', '.TXT', '.json', '.JSON', '.log', '.md', '.tar.gz', '', '.jpeg'];
  const PREFIXES = ['data_', 'Data_', 'report ', 'skip', 'img', '.hidden_', 'notes', 'log_'];
  const SPECIAL_SIZES = [0, 999, 1000, 1999, 2000, 2001, 8191, 8192, 8193, 10_240];
  const filePaths: string[] = [];
  for (let i = 0; i < FILE_COUNT; i++) {
    const d = pick(dirs);
    const prefix = pick(PREFIXES);
    let name: string;
    if (prefix === 'log_') {
      const r = rand();
      name = r < 0.6 ? `log_${i}.txt` : r < 0.75 ? `log_${i}a.txt` : r < 0.9 ? `log_${i}.TXT` : `xlog_${i}.txt`;
    } else {
      name = `${prefix}${i}${pick(EXTS)}`;
    }
    const rel = d.rel === '' ? name : `${d.rel}/${name}`;
    const r = rand();
    const size = r < 0.05 ? pick(SPECIAL_SIZES) : r < 0.12 ? 0 : Math.floor(rand() * rand() * 10_241);
    const r2 = rand();
    const mtime =
      r2 < 0.01 ? newerCut : r2 < 0.02 ? Math.floor(olderCut) : r2 < 0.03 ? Math.ceil(olderCut) : base - Math.floor(rand() * 60 * DAY_S);
    const fd = fs.openSync(path.join(root, rel), 'w');
    try {
      if (size > 0) fs.ftruncateSync(fd, size);
      fs.futimesSync(fd, mtime, mtime);
    } finally {
      fs.closeSync(fd);
    }
    filePaths.push(rel);
  }

  // Ignore files that would hide most of the tree if --no-ignore did not turn them off.
  fs.writeFileSync(path.join(root, '.ignore'), '*.csv\n*.CSV\n');
  fs.writeFileSync(path.join(root, '.gitignore'), 'data_*\nskip*\n');
  let extra = 2;
  for (let i = 0; i < 25; i++) {
    const d = pick(dirs);
    if (d.rel === '' || fs.existsSync(path.join(root, d.rel, '.filerignore'))) continue;
    fs.writeFileSync(path.join(root, d.rel, '.filerignore'), '*\n');
    extra++;
  }

  // Symlinks (outside targets/): to files, to directories in targets/, and dangling ones.
  const linkDirs = dirs.filter((d) => !d.inTargets);
  const targetDirs = dirs.filter((d) => d.inTargets);
  for (let i = 0; i < 40; i++) {
    const d = pick(linkDirs);
    const at = (n: string): string => path.join(root, d.rel, n);
    const k = i % 3;
    if (k === 0) fs.symlinkSync(path.join(root, pick(filePaths)), at(`link_f${i}.csv`));
    else if (k === 1) fs.symlinkSync(path.join(root, pick(targetDirs).rel), at(`link_d${i}`));
    else fs.symlinkSync('no/such/target', at(`dangling_${i}.csv`));
    extra++;
  }
  return { root, total: FILE_COUNT + dirs.length - 1 + extra, newerCut, olderCut };
}

const iso = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString();

let g: Generated;
beforeAll(() => {
  g = generate();
}, 120_000);
afterAll(() => {
  if (g) fs.rmSync(g.root, { recursive: true, force: true });
});

/** The paths `find` prints with -print0 (added at the end unless the expression has it), sorted. */
async function gnuFind(pre: string[], expr: string[]): Promise<string[]> {
  const action = expr.includes('-print0') ? [] : ['-print0'];
  const r = await runProcess('find', [...pre, g.root, '-mindepth', '1', ...expr, ...action]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return splitRecords(r.stdoutBytes).sort();
}

/**
 * How the walk runs: the default; helper threads from the first millisecond (so donation and the
 * worker protocol are exercised even on this small tree); the portable node:fs walker on one thread.
 */
const MODES = [
  { name: 'default', args: [], env: {} },
  { name: 'threads from the start', args: ['--threads', '2'], env: { FILER_WALK_SPAWN_AFTER_MS: '0' } },
  { name: 'portable, one thread', args: ['--threads', '0'], env: { FILER_NATIVE_SCAN: '0' } },
] as const;
type Mode = (typeof MODES)[number];

/** The paths `filer find ROOT --hidden --no-ignore -0 ARGS` prints, sorted. */
async function filer(args: string[], mode: Mode = MODES[0]): Promise<string[]> {
  const r = await runFiler(['find', g.root, '--hidden', '--no-ignore', '-0', ...mode.args, ...args], {
    env: { ...process.env, ...mode.env },
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return splitRecords(r.stdoutBytes).sort();
}

/** Multiset difference a − b, at most `max` items, for a readable failure. */
function minus(a: string[], b: string[], max = 10): string[] {
  const counts = new Map<string, number>();
  for (const x of b) counts.set(x, (counts.get(x) ?? 0) + 1);
  const out: string[] = [];
  for (const x of a) {
    const c = counts.get(x) ?? 0;
    if (c > 0) counts.set(x, c - 1);
    else if (out.length < max) out.push(x.slice(g.root.length));
  }
  return out;
}

interface OracleCase {
  name: string;
  filer: () => string[];
  /** Options before ROOT (e.g. -L) and the expression after `-mindepth 1`. */
  find: () => [pre: string[], expr: string[]];
}

const cases: OracleCase[] = [
  { name: '--ext csv', filer: () => ['--ext', 'csv'], find: () => [[], ['-type', 'f', '-iname', '*.csv']] },
  {
    name: '--ext csv,JSON',
    filer: () => ['--ext', 'csv,JSON'],
    find: () => [[], ['-type', 'f', '(', '-iname', '*.csv', '-o', '-iname', '*.json', ')']],
  },
  {
    name: '--min-size 2k --max-size 8Ki',
    filer: () => ['--min-size', '2k', '--max-size', '8Ki'],
    find: () => [[], ['-type', 'f', '-size', '+1999c', '-size', '-8193c']],
  },
  {
    name: '--newer (ISO, equal mtimes excluded)',
    filer: () => ['--newer', iso(g.newerCut)],
    find: () => [[], ['-type', 'f', '-newermt', `@${g.newerCut}`]],
  },
  { name: '--older (ISO)', filer: () => ['--older', iso(g.olderCut)], find: () => [[], ['-type', 'f', '!', '-newermt', `@${g.olderCut}`]] },
  {
    name: "--name 'data_*' --name '*.json'",
    filer: () => ['--name', 'data_*', '--name', '*.json'],
    find: () => [[], ['-type', 'f', '(', '-name', 'data_*', '-o', '-name', '*.json', ')']],
  },
  {
    name: "--regex '^log_[0-9]+\\.txt$'",
    filer: () => ['--regex', '^log_[0-9]+\\.txt$'],
    find: () => [[], ['-type', 'f', '-regextype', 'posix-extended', '-regex', '.*/log_[0-9]+\\.txt']],
  },
  { name: '--type d', filer: () => ['--type', 'd'], find: () => [[], ['-type', 'd']] },
  { name: '--type l', filer: () => ['--type', 'l'], find: () => [[], ['-type', 'l']] },
  { name: '--max-depth 2', filer: () => ['--max-depth', '2'], find: () => [[], ['-maxdepth', '2', '-type', 'f']] },
  {
    name: "--exclude 'skip*'",
    filer: () => ['--exclude', 'skip*'],
    find: () => [[], ['-name', 'skip*', '-prune', '-o', '-type', 'f', '-print0']],
  },
  { name: "--name '* *' (spaces)", filer: () => ['--name', '* *'], find: () => [[], ['-type', 'f', '-name', '* *']] },
  {
    name: '--ext txt --min-size 1k --newer',
    filer: () => ['--ext', 'txt', '--min-size', '1k', '--newer', iso(g.newerCut)],
    find: () => [[], ['-type', 'f', '-iname', '*.txt', '-size', '+999c', '-newermt', `@${g.newerCut}`]],
  },
  {
    name: "--type d --max-depth 3 --exclude 'skip*'",
    filer: () => ['--type', 'd', '--max-depth', '3', '--exclude', 'skip*'],
    find: () => [[], ['-maxdepth', '3', '-name', 'skip*', '-prune', '-o', '-type', 'd', '-print0']],
  },
  {
    name: "--regex '(?i)^data_' --max-size 1000 --exclude 'skip*' --max-depth 4",
    filer: () => ['--regex', '(?i)^data_', '--max-size', '1000', '--exclude', 'skip*', '--max-depth', '4'],
    find: () => [
      [],
      ['-maxdepth', '4', '-name', 'skip*', '-prune', '-o', '-type', 'f', '-iregex', '.*/data_[^/]*', '-size', '-1001c', '-print0'],
    ],
  },
  {
    name: "--older --exclude '.hid*' --name '*.md'",
    filer: () => ['--older', iso(g.olderCut), '--exclude', '.hid*', '--name', '*.md'],
    find: () => [[], ['-name', '.hid*', '-prune', '-o', '-type', 'f', '-name', '*.md', '!', '-newermt', `@${g.olderCut}`, '-print0']],
  },
  { name: '-L --ext csv (links followed)', filer: () => ['-L', '--ext', 'csv'], find: () => [['-L'], ['-type', 'f', '-iname', '*.csv']] },
];

describe('filer find agrees with GNU find on a 20k-file tree', () => {
  it('the tree is what the cases assume', async () => {
    const all = await gnuFind([], []);
    expect(all).toHaveLength(g.total);
    expect(all.length).toBeGreaterThan(20_000);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const [pre, expr] = c.find();
      const want = await gnuFind(pre, expr);
      for (const mode of MODES) {
        const got = await filer(c.filer(), mode);
        expect({ mode: mode.name, missing: minus(want, got), extra: minus(got, want) }).toEqual({
          mode: mode.name,
          missing: [],
          extra: [],
        });
        expect(got).toEqual(want);
      }
      expect(want.length).toBeGreaterThan(0);
      expect(want.length).toBeLessThan(g.total);
    });
  }
});

describe('every output format carries the same entries when helper threads write them', () => {
  const threaded = { FILER_WALK_SPAWN_AFTER_MS: '0' };
  const run = (format: string) =>
    runFiler(['find', g.root, '--hidden', '--no-ignore', '--format', format], { env: { ...process.env, ...threaded } });

  it('ndjson, csv and json list the GNU find files with their sizes', async () => {
    const want = await gnuFind([], ['-type', 'f']);
    const sizes = new Map(want.map((p) => [p, fs.statSync(p).size]));
    const nd = await run('ndjson');
    const fromNd = nd.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; size: number });
    const js = await run('json');
    const fromJson = JSON.parse(js.stdout) as { path: string; size: number }[];
    const csv = await run('csv');
    const rows = csv.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe('path,type,size,mtime');
    for (const r of [nd, js, csv]) expect(r.code).toBe(0);
    for (const list of [fromNd, fromJson]) {
      expect(list.map((o) => o.path).sort()).toEqual(want);
      expect(list.every((o) => o.size === sizes.get(o.path))).toBe(true);
    }
    // Generated names hold no quotes, commas or newlines, so a CSV row splits on its last three commas.
    const csvPaths = rows.slice(1).map((row) => row.split(',').slice(0, -3).join(',').replace(/^"|"$/g, ''));
    expect(csvPaths.sort()).toEqual(want);
  });
});
