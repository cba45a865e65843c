import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dir,
  file,
  makeTree,
  runFiler,
  splitRecords,
  symlink,
  type MakeTreeOptions,
  type ProcessResult,
  type RunFilerOptions,
  type TempTree,
  type TreeSpec,
} from '@filer/testing';

/** Trees made in this file, removed at the end even when a test fails. */
const trees: TempTree[] = [];
const tree = (spec: TreeSpec, opts?: MakeTreeOptions): TempTree => {
  const t = makeTree(spec, opts);
  trees.push(t);
  return t;
};

/** Every run gets its own XDG cache home: the user's default cache is never touched. */
const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dupes-xdg-'));
/** Scratch space for --cache databases. */
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dupes-cache-'));
let dbCount = 0;
const freshDb = (): string => path.join(scratch, `run${dbCount++}`, 'state.db');
afterAll(() => {
  for (const t of trees) t.cleanup();
  fs.rmSync(xdg, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

const dupes = (args: string[], opts: RunFilerOptions = {}): Promise<ProcessResult> =>
  runFiler(['dupes', ...args], { ...opts, env: { XDG_CACHE_HOME: xdg, ...opts.env } });

interface JsonReport {
  groups: { size: number; hash: string; wasted: number; paths: string[] }[];
  summary: Record<string, number | string>;
}

/** Runs `filer dupes ARGS --format json` expecting success. */
async function json(args: string[], opts?: RunFilerOptions): Promise<JsonReport> {
  const r = await dupes([...args, '--format', 'json'], opts);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as JsonReport;
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `filer: PATH: message [CODE]`, exactly one per line. */
const pathErrorRe = (p: string, code: string): RegExp => new RegExp(`^filer: ${escapeRe(p)}: .+ \\[${code}\\]$`);

/** The counts in the text summary's last line. */
function summaryCounts(stdout: string): { candidates: number; samples: number; whole: number; hits: number; read: number; errors: number } {
  const last = splitRecords(stdout, '\n').pop() ?? '';
  const m =
    /; ([\d,]+) shared a size; hashed ([\d,]+) samples and ([\d,]+) whole files with \w+; ([\d,]+) cache hits; read ([\d,]+) bytes; ([\d,]+) errors$/.exec(
      last,
    );
  expect(m, `summary line: ${JSON.stringify(last)}`).not.toBeNull();
  const n = (i: number): number => Number(m![i].replace(/,/g, ''));
  return { candidates: n(1), samples: n(2), whole: n(3), hits: n(4), read: n(5), errors: n(6) };
}

/** `size` bytes of noise from a seed. */
function noise(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
/** A copy of `b` with one byte flipped at `at` (negative: from the end). */
const flip = (b: Buffer, at: number): Buffer => {
  const c = Buffer.from(b);
  c[at < 0 ? c.length + at : at] ^= 0x55;
  return c;
};

describe('hard links', () => {
  const X = noise(5000, 1);

  it('names of one inode are one file, not duplicates of each other', async () => {
    const t = tree({ 'orig.bin': file(X), 'other.bin': file(noise(5000, 2)) });
    fs.linkSync(t.path('orig.bin'), t.path('a-link.bin'));
    fs.mkdirSync(t.path('sub'));
    fs.linkSync(t.path('orig.bin'), t.path('sub/second-link.bin'));
    const report = await json([t.root, '--no-cache']);
    expect(report.groups).toEqual([]);
    expect(report.summary).toMatchObject({ files: 2, hardLinks: 2, candidates: 2, groups: 0 });
  });

  it('a hard-linked file and a real copy are one group of two paths, the inode named by its smallest path', async () => {
    const t = tree({ 'm-orig.bin': file(X), 'z-copy.bin': file(X) });
    fs.linkSync(t.path('m-orig.bin'), t.path('a-link.bin'));
    fs.linkSync(t.path('m-orig.bin'), t.path('q-link.bin'));
    const report = await json([t.root, '--no-cache', '--hash', 'sha256']);
    expect(report.groups).toEqual([{ size: 5000, hash: sha(X), wasted: 5000, paths: [t.path('a-link.bin'), t.path('z-copy.bin')] }]);
    expect(report.summary).toMatchObject({ files: 2, hardLinks: 2, candidates: 2, groups: 1, duplicateFiles: 2, wastedBytes: 5000 });
  });
});

describe('zero-length files', () => {
  let t: TempTree;
  beforeAll(() => {
    t = tree({ e1: '', e2: '', 'sub/e3': '', x1: 'abc', x2: 'abc', lonely: 'abcd' });
  });

  it('are not reported by default', async () => {
    const report = await json([t.root, '--no-cache']);
    expect(report.groups.map((g) => g.paths)).toEqual([[t.path('x1'), t.path('x2')]]);
    expect(report.summary).toMatchObject({ files: 6, emptySkipped: 3, candidates: 2, groups: 1, bytesRead: 6 });
  });

  it('form a group with --include-empty, with the digest of zero bytes, without being read', async () => {
    const report = await json([t.root, '--no-cache', '--include-empty', '--hash', 'sha256']);
    expect(report.groups).toEqual([
      { size: 3, hash: sha('abc'), wasted: 3, paths: [t.path('x1'), t.path('x2')] },
      {
        size: 0,
        hash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        wasted: 0,
        paths: [t.path('e1'), t.path('e2'), t.path('sub/e3')],
      },
    ]);
    expect(report.summary).toMatchObject({ emptySkipped: 0, groups: 2, duplicateFiles: 5, wastedBytes: 3, bytesRead: 6 });
    const text = await dupes([t.root, '--no-cache', '--include-empty']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`3 copies × 0 B — 0 B wasted\n  ${t.path('e1')}\n  ${t.path('e2')}\n  ${t.path('sub/e3')}\n\n`);
  });
});

describe('an unreadable file (as an unprivileged user)', () => {
  // Root ignores permissions, so the CLI runs as nobody; the temp tree lives under /tmp with mode 0755.
  const asUser = process.getuid?.() === 0 ? { user: 'nobody', group: 'nogroup' } : undefined;
  const X = noise(3000, 5);
  const Y = noise(12_000, 6);
  let t: TempTree;
  beforeAll(() => {
    t = tree(
      {
        'locked.bin': file(X, { mode: 0o000 }),
        'twin.bin': file(X, { mode: 0o644 }),
        'sub/p1.bin': file(Y, { mode: 0o644 }),
        'sub/p2.bin': file(Y, { mode: 0o644 }),
      },
      { parent: '/tmp', rootMode: 0o755 },
    );
  });

  it('is reported on stderr with EACCES, the other groups still reported, exit 1', async () => {
    const r = await dupes([t.root, '--no-cache', '--format', 'json'], { asUser });
    expect(r.code).toBe(1);
    expect(splitRecords(r.stderr, '\n')).toEqual([expect.stringMatching(pathErrorRe(t.path('locked.bin'), 'EACCES'))]);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.groups.map((g) => g.paths)).toEqual([[t.path('sub/p1.bin'), t.path('sub/p2.bin')]]);
    expect(report.summary).toMatchObject({ files: 4, candidates: 4, errors: 1, groups: 1 });
  });

  it('text format says so in the summary; -q silences stderr but not the exit code', async () => {
    const r = await dupes([t.root, '--no-cache'], { asUser });
    expect(r.code).toBe(1);
    expect(splitRecords(r.stderr, '\n')).toHaveLength(1);
    expect(summaryCounts(r.stdout).errors).toBe(1);
    expect(r.stdout.startsWith(`2 copies × 11.7 KiB — 11.7 KiB wasted\n  ${t.path('sub/p1.bin')}\n  ${t.path('sub/p2.bin')}\n\n`)).toBe(
      true,
    );
    const quiet = await runFiler(['--quiet', 'dupes', t.root, '--no-cache'], { asUser, env: { XDG_CACHE_HOME: xdg } });
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toBe('');
  });
});

describe('the native tree scan (--no-ignore, no excludes, no -L) against the portable walk', () => {
  // As nobody, so that an unreadable directory and file really fail.
  const asUser = process.getuid?.() === 0 ? { user: 'nobody', group: 'nogroup' } : undefined;
  const X = noise(5000, 11);
  const Y = noise(20_000, 12);
  let t: TempTree;
  beforeAll(() => {
    t = tree(
      {
        'x1.bin': file(X, { mode: 0o644 }),
        'nested/a/b/x2.bin': file(X, { mode: 0o644 }),
        '.hidden/x3.bin': file(X, { mode: 0o644 }),
        'locked-dir': dir({ mode: 0o000 }),
        'locked-dir/x4.bin': file(X, { mode: 0o644 }),
        'locked.bin': file(Y, { mode: 0o000 }),
        'y1.bin': file(Y, { mode: 0o644 }),
        'nested/y2.bin': file(Y, { mode: 0o644 }),
        'ln.bin': symlink('x1.bin'),
      },
      { parent: '/tmp', rootMode: 0o755 },
    );
  });

  /** `filer dupes` natively and with FILER_NATIVE_SCAN=0 at once: the same exit code, report and errors. Returns the native run. */
  const sameAsPortable = async (args: string[], portableArgs = args): Promise<ProcessResult> => {
    const [native, portable] = await Promise.all([
      dupes(args, { asUser }),
      dupes(portableArgs, { asUser, env: { FILER_NATIVE_SCAN: '0' } }),
    ]);
    expect(native.code).toBe(portable.code);
    expect(native.stdout).toBe(portable.stdout);
    expect(splitRecords(native.stderr, '\n').sort()).toEqual(splitRecords(portable.stderr, '\n').sort());
    return native;
  };

  it.each([[[]], [['--hidden']], [['--max-depth', '2']], [['--ext', 'bin', '--min-size', '10k']]])(
    'gives the same report, errors and exit code as FILER_NATIVE_SCAN=0 with %j',
    async (extra) => {
      const args = [t.root, '--no-ignore', '--no-cache', '--format', 'json', ...extra];
      const native = await sameAsPortable(args);
      if (asUser !== undefined && !extra.includes('--min-size')) {
        expect(native.code).toBe(1);
        expect(splitRecords(native.stderr, '\n')).toContainEqual(expect.stringMatching(pathErrorRe(t.path('locked-dir'), 'EACCES')));
      }
    },
  );

  it.each([
    [['nested'], []],
    [
      ['nested/a', 'nested'],
      ['--ext', 'bin', '--min-size', '10k'],
    ],
    [
      ['nested', '.hidden'],
      ['--hidden', '--name', 'x*'],
    ],
  ])('several roots %j with %j (native pipeline) report what the portable walk reports, first run and warm rerun', async (subs, extra) => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-native-state-'));
    fs.chmodSync(state, 0o777);
    try {
      const args = (db: string): string[] => [
        t.root,
        ...subs.map((s) => t.path(s)),
        '--no-ignore',
        '--cache',
        path.join(state, db),
        '--format',
        'json',
        ...extra,
      ];
      for (const run of ['first', 'warm']) {
        const native = await sameAsPortable(args('native.db'), args('portable.db'));
        const { summary } = JSON.parse(native.stdout) as JsonReport;
        expect(summary.groups).toBeGreaterThan(0);
        if (run === 'warm') expect(summary).toMatchObject({ fullyHashed: 0 });
      }
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });

  it('spilled to disk (FILER_DUPES_SPILL_AFTER=2), the portable walk reports what it reports in memory: overlapping roots, errors, a warm rerun', async () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-spill-state-'));
    fs.chmodSync(state, 0o777);
    try {
      const args = (db: string): string[] => [
        t.root,
        t.path('nested'),
        '--no-ignore',
        '--hidden',
        '--cache',
        path.join(state, db),
        '--format',
        'json',
      ];
      const env = { FILER_NATIVE_SCAN: '0', XDG_CACHE_HOME: state };
      for (const run of ['first', 'warm']) {
        const [held, spilled] = await Promise.all([
          dupes(args('held.db'), { asUser, env }),
          dupes(args('spilled.db'), { asUser, env: { ...env, FILER_DUPES_SPILL_AFTER: '2' } }),
        ]);
        expect(spilled.code).toBe(held.code);
        expect(spilled.stdout).toBe(held.stdout);
        expect(splitRecords(spilled.stderr, '\n').sort()).toEqual(splitRecords(held.stderr, '\n').sort());
        const { summary } = JSON.parse(spilled.stdout) as JsonReport;
        expect(summary).toMatchObject({ groups: 2 });
        if (run === 'warm') expect(summary).toMatchObject({ fullyHashed: 0 });
      }
      // The spill store is removed when the run ends.
      expect(fs.readdirSync(path.join(state, 'spill'))).toEqual([]);
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });

  it('with a hash cache (the whole pipeline in the addon), a first run and a warm rerun report what the portable walk reports', async () => {
    // Writable by nobody: each walk gets its own database.
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-native-state-'));
    fs.chmodSync(state, 0o777);
    try {
      const args = (db: string): string[] => [t.root, '--no-ignore', '--cache', path.join(state, db), '--format', 'json'];
      for (const run of ['first', 'warm']) {
        const native = await sameAsPortable(args('native.db'), args('portable.db'));
        const { summary } = JSON.parse(native.stdout) as JsonReport;
        if (run === 'first') expect(summary).toMatchObject({ cacheHits: 0, groups: 2 });
        // Only what failed is tried again: the unreadable file's sample.
        else expect(summary).toMatchObject({ cacheHits: 4, bytesRead: 0, fullyHashed: 0, sampled: 1 });
      }
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('symbolic links', () => {
  const X = noise(4000, 8);
  let t: TempTree;
  let outside: TempTree;
  beforeAll(() => {
    outside = tree({ 'target.bin': file(X) });
    t = tree({
      'sub/x.bin': file(X),
      'copy.bin': file(X),
      'ln-dir': symlink('sub'),
      'a-file-link.bin': symlink(outside.path('target.bin')),
      'dangling.bin': symlink('nowhere'),
    });
  });

  it('are not followed without -L', async () => {
    const report = await json([t.root, '--no-cache']);
    expect(report.groups.map((g) => g.paths)).toEqual([[t.path('copy.bin'), t.path('sub/x.bin')]]);
    expect(report.summary).toMatchObject({ files: 2, hardLinks: 0, errors: 0 });
  });

  it('with -L, a directory link leads to the same inodes (one file each), a file link to its target', async () => {
    // Files seen: copy.bin, sub/x.bin, ln-dir/x.bin (= sub/x.bin's inode), a-file-link.bin (outside target).
    const r = await dupes([t.root, '--no-cache', '--format', 'json', '-L']);
    // The dangling link is the only thing -L may complain about: a file reached through a link is readable.
    expect(splitRecords(r.stderr, '\n').filter((l) => !l.includes('dangling.bin'))).toEqual([]);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.groups.map((g) => g.paths)).toEqual([[t.path('a-file-link.bin'), t.path('copy.bin'), t.path('ln-dir/x.bin')]]);
    expect(report.summary).toMatchObject({ files: 3, groups: 1, duplicateFiles: 3, wastedBytes: 8000 });
  });
});

describe('hash cache', () => {
  const S = noise(3000, 11);
  const B = noise(20_000, 12);
  const B_MID = flip(B, 10_000); // same head and tail blocks as B: needs a whole-file hash
  const T0 = new Date('2023-01-01T00:00:00.000Z');
  const T1 = new Date('2023-06-01T00:00:00.000Z');
  const T2 = new Date('2023-07-01T00:00:00.000Z');
  const spec = (): TreeSpec => ({
    's1.bin': file(S, { mtime: T0 }),
    's2.bin': file(S, { mtime: T0 }),
    's3.bin': file(flip(S, -1), { mtime: T0 }), // last byte differs: the (whole) sample tells it apart
    'big/b1.bin': file(B, { mtime: T0 }),
    'big/b2.bin': file(B, { mtime: T0 }),
    'big/b3.bin': file(B_MID, { mtime: T0 }),
    'big/b4.bin': file(flip(B, 0), { mtime: T0 }), // first byte differs: the sample tells it apart
    'unique.bin': file(noise(777, 13), { mtime: T0 }),
  });
  // 7 files share a size; cold: 7 samples (3 × 3000 + 4 × 8192) and 3 whole files (3 × 20 000).
  const COLD_READ = 3 * 3000 + 4 * 8192 + 3 * 20_000;

  it('a second run on an unchanged tree reads no file contents', async () => {
    const t = tree(spec());
    const cache = freshDb();
    const cold = await dupes([t.root, '--cache', cache]);
    expect(cold.stderr).toBe('');
    expect(cold.code).toBe(0);
    expect(summaryCounts(cold.stdout)).toEqual({ candidates: 7, samples: 7, whole: 3, hits: 0, read: COLD_READ, errors: 0 });
    expect(fs.existsSync(cache)).toBe(true);

    const warm = await dupes([t.root, '--cache', cache]);
    expect(warm.code).toBe(0);
    expect(summaryCounts(warm.stdout)).toEqual({ candidates: 7, samples: 0, whole: 0, hits: 7, read: 0, errors: 0 });
    expect(warm.stdout).toMatch(/; 7 cache hits; read 0 bytes; 0 errors\n$/);
    // Same report apart from the counts line.
    const body = (s: string): string => s.split('\n').slice(0, -2).join('\n');
    expect(body(warm.stdout)).toBe(body(cold.stdout));
    expect(body(warm.stdout)).toContain(`2 copies × 19.5 KiB — 19.5 KiB wasted\n  ${t.path('big/b1.bin')}\n  ${t.path('big/b2.bin')}\n`);

    // Nothing went to the default location.
    expect(fs.readdirSync(xdg)).toEqual([]);
  });

  it('a fully cached tree (grouped natively) reports what the pipeline reports: hard links, empties, unicode, every format', async () => {
    const t = tree({
      ...spec(),
      'é/😀 x.bin': file(S, { mtime: T0 }),
      '\uE000/y.bin': file(S, { mtime: T0 }),
      'e1.txt': file(''),
      'e2.txt': file(''),
    });
    fs.linkSync(t.path('big/b1.bin'), t.path('big/a-link.bin')); // the inode is named by its smallest path
    fs.linkSync(t.path('é/😀 x.bin'), t.path('\uE000/😀.bin'));
    const cache = freshDb();
    for (const flags of [[], ['--include-empty']]) {
      const cold = await json([t.root, '--cache', cache, ...flags]);
      const warm = await json([t.root, '--cache', cache, ...flags]);
      // The same run through the pipeline: the portable walk looks every file up instead.
      const pipeline = await json([t.root, '--cache', cache, ...flags], { env: { FILER_NATIVE_SCAN: '0' } });
      expect(warm.summary).toMatchObject({ bytesRead: 0, cacheHits: cold.summary.candidates, hardLinks: 2 });
      expect(warm.groups).toEqual(cold.groups);
      expect(pipeline.groups).toEqual(warm.groups);
      expect(pipeline.summary).toEqual(warm.summary);
      expect(warm.groups.map((g) => g.paths.length)).toContain(flags.length > 0 ? 2 : 4);
    }
    for (const format of ['text', 'csv', 'ndjson']) {
      const cold = await dupes([t.root, '--no-cache', '--format', format]);
      const warm = await dupes([t.root, '--cache', cache, '--format', format]);
      const body = (s: string): string => (format === 'text' ? s.split('\n').slice(0, -2).join('\n') : s);
      expect(body(warm.stdout)).toBe(body(cold.stdout));
    }
  });

  it('after touching one file, exactly that file is hashed again', async () => {
    const t = tree(spec());
    const cache = freshDb();
    expect((await dupes([t.root, '--cache', cache])).code).toBe(0);

    // b3's sample collides with b1/b2 (whose whole hashes are cached): sample + whole of b3 only.
    fs.utimesSync(t.path('big/b3.bin'), T1, T1);
    const r1 = await dupes([t.root, '--cache', cache]);
    expect(summaryCounts(r1.stdout)).toEqual({ candidates: 7, samples: 1, whole: 1, hits: 6, read: 8192 + 20_000, errors: 0 });

    // b4's sample is unique: its sample only.
    fs.utimesSync(t.path('big/b4.bin'), T1, T1);
    const r2 = await dupes([t.root, '--cache', cache]);
    expect(summaryCounts(r2.stdout)).toEqual({ candidates: 7, samples: 1, whole: 0, hits: 6, read: 8192, errors: 0 });

    // A small file is read whole by its sample.
    fs.utimesSync(t.path('s2.bin'), T1, T1);
    const r3 = await dupes([t.root, '--cache', cache]);
    expect(summaryCounts(r3.stdout)).toEqual({ candidates: 7, samples: 1, whole: 0, hits: 6, read: 3000, errors: 0 });

    const r4 = await dupes([t.root, '--cache', cache]);
    expect(summaryCounts(r4.stdout)).toEqual({ candidates: 7, samples: 0, whole: 0, hits: 7, read: 0, errors: 0 });
  });

  it('after rewriting one file, exactly that file is hashed again and the groups follow the new content', async () => {
    const t = tree(spec());
    const cache = freshDb();
    expect((await json([t.root, '--cache', cache])).groups.map((g) => g.paths)).toEqual([
      [t.path('big/b1.bin'), t.path('big/b2.bin')],
      [t.path('s1.bin'), t.path('s2.bin')],
    ]);

    // s3 becomes a third copy of S (same size).
    fs.writeFileSync(t.path('s3.bin'), S);
    fs.utimesSync(t.path('s3.bin'), T1, T1);
    const r1 = await dupes([t.root, '--cache', cache, '--format', 'json']);
    const rep1 = JSON.parse(r1.stdout) as JsonReport;
    expect(rep1.summary).toMatchObject({ candidates: 7, sampled: 1, fullyHashed: 0, cacheHits: 6, bytesRead: 3000 });
    expect(rep1.groups.map((g) => g.paths)).toEqual([
      [t.path('big/b1.bin'), t.path('big/b2.bin')],
      [t.path('s1.bin'), t.path('s2.bin'), t.path('s3.bin')],
    ]);

    // b1 becomes the same as b3 (same size; its sample still collides): b1 sample + whole.
    fs.writeFileSync(t.path('big/b1.bin'), B_MID);
    fs.utimesSync(t.path('big/b1.bin'), T2, T2);
    const r2 = await dupes([t.root, '--cache', cache, '--format', 'json']);
    const rep2 = JSON.parse(r2.stdout) as JsonReport;
    expect(rep2.summary).toMatchObject({ candidates: 7, sampled: 1, fullyHashed: 1, cacheHits: 6, bytesRead: 8192 + 20_000 });
    expect(rep2.groups.map((g) => g.paths)).toEqual([
      [t.path('big/b1.bin'), t.path('big/b3.bin')],
      [t.path('s1.bin'), t.path('s2.bin'), t.path('s3.bin')],
    ]);

    // A file that grows out of its size group is not a candidate any more; nothing is read.
    fs.appendFileSync(t.path('big/b4.bin'), 'x');
    const r3 = await dupes([t.root, '--cache', cache]);
    expect(summaryCounts(r3.stdout)).toEqual({ candidates: 6, samples: 0, whole: 0, hits: 6, read: 0, errors: 0 });
  });

  it('keeps algorithms apart, and --no-cache neither reads nor writes it', async () => {
    const t = tree(spec());
    const cache = freshDb();
    expect((await dupes([t.root, '--cache', cache])).code).toBe(0);
    const sha1 = await dupes([t.root, '--cache', cache, '--hash', 'sha256']);
    expect(summaryCounts(sha1.stdout)).toMatchObject({ hits: 0, read: COLD_READ });
    const sha2 = await dupes([t.root, '--cache', cache, '--hash', 'sha256']);
    expect(summaryCounts(sha2.stdout)).toMatchObject({ hits: 7, read: 0 });

    const before = fs.statSync(cache).mtimeMs;
    const none = await dupes([t.root, '--no-cache']);
    expect(summaryCounts(none.stdout)).toMatchObject({ hits: 0, read: COLD_READ });
    expect(fs.statSync(cache).mtimeMs).toBe(before);
    expect(fs.readdirSync(xdg)).toEqual([]);
  });

  it('three runs at once on one new cache all succeed with the same report', async () => {
    const t = tree(spec());
    const cache = freshDb();
    const runs = await Promise.all([0, 1, 2].map(() => dupes([t.root, '--cache', cache, '--format', 'ndjson'])));
    expect(runs.map((r) => [r.code, r.stderr])).toEqual([
      [0, ''],
      [0, ''],
      [0, ''],
    ]);
    expect(runs[1].stdout).toBe(runs[0].stdout);
    expect(runs[2].stdout).toBe(runs[0].stdout);
    expect(splitRecords(runs[0].stdout, '\n')).toHaveLength(2);
    const warm = await dupes([t.root, '--cache', cache]);
    expect(summaryCounts(warm.stdout)).toMatchObject({ hits: 7, read: 0 });
  });
});

describe('output formats', () => {
  let t: TempTree;
  beforeAll(() => {
    t = tree({
      'n1.txt': file('n', { size: 100 }),
      'big/b2': file('B', { size: 3000 }),
      'big/b1': file('B', { size: 3000 }),
      t3: file('T', { size: 1500 }),
      t1: file('T', { size: 1500 }),
      t2: file('T', { size: 1500 }),
      'comma,1': file('c', { size: 10 }),
      'quote"2': file('c', { size: 10 }),
      'new\nline': file('c', { size: 10 }),
      'n2.txt': file('n', { size: 100 }),
      unique: file('u', { size: 50 }),
    });
  });
  const P = (rel: string): string => t.path(rel);
  const H = { b: sha('B'.repeat(3000)), t: sha('T'.repeat(1500)), n: sha('n'.repeat(100)), c: sha('c'.repeat(10)) };
  // Most wasted first; 3000 × 1 and 1500 × 2 tie, the larger size first.
  const groups = () => [
    { size: 3000, hash: H.b, wasted: 3000, paths: [P('big/b1'), P('big/b2')] },
    { size: 1500, hash: H.t, wasted: 3000, paths: [P('t1'), P('t2'), P('t3')] },
    { size: 100, hash: H.n, wasted: 100, paths: [P('n1.txt'), P('n2.txt')] },
    { size: 10, hash: H.c, wasted: 20, paths: [P('comma,1'), P('new\nline'), P('quote"2')] },
  ];

  it('json: groups and summary', async () => {
    const report = await json([t.root, '--no-cache', '--hash', 'sha256']);
    expect(report.groups).toEqual(groups().sort((a, b) => b.wasted - a.wasted || b.size - a.size));
    expect(report).toEqual({
      groups: [groups()[0], groups()[1], groups()[2], groups()[3]].sort((a, b) => b.wasted - a.wasted || b.size - a.size),
      summary: {
        files: 11,
        hardLinks: 0,
        emptySkipped: 0,
        candidates: 10,
        sampled: 10,
        fullyHashed: 0,
        cacheHits: 0,
        bytesRead: 2 * 3000 + 3 * 1500 + 2 * 100 + 3 * 10,
        groups: 4,
        duplicateFiles: 10,
        wastedBytes: 6120,
        errors: 0,
        hash: 'sha256',
      },
    });
  });

  it('ndjson: one line per group in the same order', async () => {
    const r = await dupes([t.root, '--no-cache', '--hash', 'sha256', '--format', 'ndjson']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const byWasted = groups().sort((a, b) => b.wasted - a.wasted || b.size - a.size);
    expect(r.stdout).toBe(
      byWasted.map((g) => JSON.stringify({ size: g.size, hash: g.hash, wasted: g.wasted, paths: g.paths }) + '\n').join(''),
    );
  });

  it('csv: a row per path with its group number, awkward names quoted', async () => {
    const r = await dupes([t.root, '--no-cache', '--hash', 'sha256', '--format', 'csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'group,size,hash,wasted,path\n' +
        `1,3000,${H.b},3000,${P('big/b1')}\n` +
        `1,3000,${H.b},3000,${P('big/b2')}\n` +
        `2,1500,${H.t},3000,${P('t1')}\n` +
        `2,1500,${H.t},3000,${P('t2')}\n` +
        `2,1500,${H.t},3000,${P('t3')}\n` +
        `3,100,${H.n},100,${P('n1.txt')}\n` +
        `3,100,${H.n},100,${P('n2.txt')}\n` +
        `4,10,${H.c},20,"${P('comma,1')}"\n` +
        `4,10,${H.c},20,"${P('new\nline')}"\n` +
        `4,10,${H.c},20,"${t.root}/quote""2"\n`,
    );
  });

  it('text: groups then the summary', async () => {
    const r = await dupes([t.root, '--no-cache', '--hash', 'sha256']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `2 copies × 2.93 KiB — 2.93 KiB wasted\n  ${P('big/b1')}\n  ${P('big/b2')}\n\n` +
        `3 copies × 1.46 KiB — 2.93 KiB wasted\n  ${P('t1')}\n  ${P('t2')}\n  ${P('t3')}\n\n` +
        `2 copies × 100 B — 100 B wasted\n  ${P('n1.txt')}\n  ${P('n2.txt')}\n\n` +
        `3 copies × 10 B — 20 B wasted\n  ${P('comma,1')}\n  ${P('new\nline')}\n  ${P('quote"2')}\n\n` +
        '4 groups, 10 duplicate files, 5.98 KiB wasted (6,120 bytes)\n' +
        'scanned 11 files (0 extra hard links and 0 empty files skipped); 10 shared a size; ' +
        'hashed 10 samples and 0 whole files with sha256; 0 cache hits; read 10,730 bytes; 0 errors\n',
    );
  });

  it('the default xxh128 hash is a 128-bit hex digest, the same in every format', async () => {
    const report = await json([t.root, '--no-cache']);
    expect(report.summary.hash).toBe('xxh128');
    for (const g of report.groups) expect(g.hash).toMatch(/^[0-9a-f]{32}$/);
    const nd = await dupes([t.root, '--no-cache', '--format', 'ndjson']);
    expect(splitRecords(nd.stdout, '\n').map((l) => (JSON.parse(l) as { hash: string }).hash)).toEqual(report.groups.map((g) => g.hash));
  });

  it('an empty result is still well-formed in every format', async () => {
    const u = tree({ a: '1', b: '22' });
    expect(await json([u.root, '--no-cache'])).toMatchObject({ groups: [], summary: { files: 2, groups: 0 } });
    expect((await dupes([u.root, '--no-cache', '--format', 'ndjson'])).stdout).toBe('');
    expect((await dupes([u.root, '--no-cache', '--format', 'csv'])).stdout).toBe('group,size,hash,wasted,path\n');
    const text = await dupes([u.root, '--no-cache']);
    expect(text.stdout.startsWith('0 groups, 0 duplicate files, 0 B wasted (0 bytes)\n')).toBe(true);
  });
});

describe('filters and roots', () => {
  it('applies filters before grouping and takes several roots', async () => {
    const a = tree({ 'x.csv': file('q', { size: 900 }), 'x.txt': file('q', { size: 900 }), 'small.csv': 'zz' });
    const b = tree({ 'y.csv': file('q', { size: 900 }), 'small2.csv': 'zz' });
    const report = await json([a.root, b.root, '--no-cache', '--ext', 'csv', '--min-size', '100']);
    expect(report.groups.map((g) => g.paths)).toEqual([[a.path('x.csv'), b.path('y.csv')].sort()]);
    expect(report.summary).toMatchObject({ files: 2 });
  });
});

describe('bad input exits 2 with one line on stderr', () => {
  let t: TempTree;
  beforeAll(() => {
    t = tree({ 'a.txt': 'a', 'b.txt': 'a' });
  });
  it.each([
    ['--hash md5', ['--hash', 'md5'], /md5/],
    ['--type d', ['--type', 'd'], /^filer: --type: /],
    ['--format xml', ['--format', 'xml'], /xml/],
    ['--min-size lots', ['--min-size', 'lots'], /^filer: --min-size: /],
  ])('%s', async (_name, args, re) => {
    const r = await dupes([t.root, '--no-cache', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const errs = splitRecords(r.stderr, '\n');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^filer: /);
    expect(errs[0]).toMatch(re);
  });

  it('a missing root, or one that is a file', async () => {
    for (const root of [t.path('missing'), t.path('a.txt')]) {
      const r = await dupes([root, '--no-cache']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(splitRecords(r.stderr, '\n')).toEqual([expect.stringContaining(root)]);
    }
  });

  it('no root at all', async () => {
    const r = await dupes(['--no-cache']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(splitRecords(r.stderr, '\n')).toHaveLength(1);
  });
});
