import * as fs from 'node:fs';
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
afterAll(() => {
  for (const t of trees) t.cleanup();
});

/** Newline-separated records (for trees without newlines in names). */
const lines = (r: ProcessResult): string[] => splitRecords(r.stdout, '\n');

/** NUL-separated records, relative to `root` (every one must start with `root/`). */
const relNul = (r: ProcessResult, root: string): string[] =>
  splitRecords(r.stdoutBytes).map((p) => {
    expect(p.startsWith(root + '/'), `${JSON.stringify(p)} is under ${root}`).toBe(true);
    return p.slice(root.length + 1);
  });

/** Runs `filer find ROOT ARGS -0` and returns the paths relative to ROOT, sorted. */
async function found(t: TempTree, ...args: string[]): Promise<string[]> {
  const r = await runFiler(['find', t.root, '-0', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return relNul(r, t.root).sort();
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `filer: PATH: message [CODE]`, exactly one per line. */
const pathErrorRe = (p: string, code: string): RegExp => new RegExp(`^filer: ${escapeRe(p)}: .+ \\[${code}\\]$`);

describe('names that break naive tools', () => {
  const NFC = 'caf\u00e9.txt';
  const NFD = 'cafe\u0301.txt';
  const NEWLINE = 'new\nline.txt';
  const GLOBBY = '*?[]{}.txt';
  const names = [
    'with space.txt',
    NFC,
    NFD,
    NEWLINE,
    '-dash.txt',
    '--help',
    GLOBBY,
    'quote"comma,.txt',
    'sub dir/inner file.txt',
    'sub dir/-x',
  ];
  let t: TempTree;
  beforeAll(() => {
    t = tree(Object.fromEntries(names.map((n) => [n, 'x'])));
  });

  it('prints every name byte for byte with -0', async () => {
    const r = await runFiler(['find', t.root, '-0', '--sort', 'path']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const expected = [...names]
      .sort()
      .map((n) => `${t.root}/${n}\0`)
      .join('');
    expect(r.stdoutBytes.equals(Buffer.from(expected, 'utf8'))).toBe(true);
  });

  it('keeps NFC and NFD spellings apart, unnormalised, as two entries', async () => {
    const r = await runFiler(['find', t.root, '-0', '--name', 'caf*']);
    expect(r.code).toBe(0);
    expect(relNul(r, t.root).sort()).toEqual([NFC, NFD].sort());
    expect(r.stdoutBytes.includes(Buffer.from('caf\xc3\xa9.txt\0', 'latin1'))).toBe(true);
    expect(r.stdoutBytes.includes(Buffer.from('cafe\xcc\x81.txt\0', 'latin1'))).toBe(true);
    expect(await found(t, '--name', NFC)).toEqual([NFC]);
    expect(await found(t, '--name', NFD)).toEqual([NFD]);
  });

  it('keeps a name with a newline in one record with -0', async () => {
    expect(await found(t, '--name', 'new*')).toEqual([NEWLINE]);
    expect(await found(t, '--regex', '\\n')).toEqual([NEWLINE]);
  });

  it('escapes a newline in ndjson so each record stays on one line', async () => {
    const r = await runFiler(['find', t.root, '--format', 'ndjson']);
    expect(r.code).toBe(0);
    const rows = lines(r);
    expect(rows).toHaveLength(names.length);
    const parsed = rows.map((l) => JSON.parse(l) as { path: string; type: string; size: number });
    expect(parsed.map((o) => o.path).sort()).toEqual(names.map((n) => `${t.root}/${n}`).sort());
    expect(parsed.every((o) => o.type === 'file' && o.size === 1)).toBe(true);
  });

  it('quotes newlines, quotes and commas in csv (RFC 4180)', async () => {
    const r = await runFiler(['find', t.root, '--format', 'csv', '--name', 'new*', '--name', 'quote*', '--sort', 'path']);
    expect(r.code).toBe(0);
    // mtime is printed truncated to the millisecond (Stats#mtime rounds instead).
    const mt = (n: string): string => new Date(fs.statSync(t.path(n)).mtimeMs).toISOString();
    expect(r.stdout).toBe(
      'path,type,size,mtime\n' +
        `"${t.root}/new\nline.txt",file,1,${mt(NEWLINE)}\n` +
        `"${t.root}/quote""comma,.txt",file,1,${mt('quote"comma,.txt')}\n`,
    );
  });

  it('produces valid JSON for awkward names', async () => {
    const r = await runFiler(['find', t.root, '--format', 'json']);
    expect(r.code).toBe(0);
    const arr = JSON.parse(r.stdout) as { path: string }[];
    expect(arr.map((o) => o.path).sort()).toEqual(names.map((n) => `${t.root}/${n}`).sort());
  });

  it('takes values and roots that start with a dash', async () => {
    expect(await found(t, '--name', '-dash.txt')).toEqual(['-dash.txt']);
    expect(await found(t, '--name=--help')).toEqual(['--help']);
    expect(await found(t, '--name', '-*')).toEqual(['--help', '-dash.txt', 'sub dir/-x']);
    fs.mkdirSync(t.path('-root'));
    fs.writeFileSync(t.path('-root/in.txt'), '');
    try {
      const r = await runFiler(['find', '--', '-root'], { cwd: t.root });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('-root/in.txt\n');
    } finally {
      fs.rmSync(t.path('-root'), { recursive: true });
    }
  });

  it('treats glob metacharacters in names literally when escaped or bracketed', async () => {
    expect(await found(t, '--name', '\\*\\?\\[\\]\\{\\}.txt')).toEqual([GLOBBY]);
    expect(await found(t, '--name', '[*]*')).toEqual([GLOBBY]);
    expect(await found(t, '--regex', '^\\*\\?\\[\\]\\{\\}\\.txt$')).toEqual([GLOBBY]);
    expect(await found(t, '--exclude', '[*]*', '--ext', 'txt')).toEqual(
      ['with space.txt', NFC, NFD, NEWLINE, '-dash.txt', 'quote"comma,.txt', 'sub dir/inner file.txt'].sort(),
    );
  });

  it('matches names with spaces and directories with spaces', async () => {
    expect(await found(t, '--name', '* *')).toEqual(['sub dir/inner file.txt', 'with space.txt']);
    expect(await found(t, '--type', 'd')).toEqual(['sub dir']);
  });
});

describe('hidden entries', () => {
  let t: TempTree;
  beforeAll(() => {
    t = tree({
      '.hidden.txt': 'h',
      '.hdir/inside.txt': 'i',
      '.hdir/.deeper/x.txt': 'x',
      'vis/.dot.txt': 'd',
      'vis/seen.txt': 's',
      'top.txt': 't',
    });
  });

  it('skips hidden files and directories by default', async () => {
    expect(await found(t)).toEqual(['top.txt', 'vis/seen.txt']);
    expect(await found(t, '--type', 'd')).toEqual(['vis']);
  });

  it('shows them with --hidden', async () => {
    expect(await found(t, '--hidden')).toEqual([
      '.hdir/.deeper/x.txt',
      '.hdir/inside.txt',
      '.hidden.txt',
      'top.txt',
      'vis/.dot.txt',
      'vis/seen.txt',
    ]);
    expect(await found(t, '-H', '--type', 'd')).toEqual(['.hdir', '.hdir/.deeper', 'vis']);
  });

  it('lists everything under a hidden root (only entries below the root count)', async () => {
    const r = await runFiler(['find', t.path('.hdir')]);
    expect(r.code).toBe(0);
    expect(lines(r).sort()).toEqual([t.path('.hdir/inside.txt')]);
  });
});

describe('ignore files', () => {
  let t: TempTree;
  const everyFile = [
    'a.tmp',
    'app.log',
    'app.txt',
    'build/out.bin',
    'draft/d.txt',
    'secret.txt',
    'src/a.tmp',
    'src/build',
    'src/build.txt',
    'src/deep/build/x.txt',
    'src/deep/keep.log',
    'src/deep/other.log',
    'src/secret2.txt',
  ];
  beforeAll(() => {
    t = tree({
      '.gitignore': '*.log\nbuild/\n',
      '.ignore': 'secret*\n',
      '.filerignore': 'draft/\n',
      'src/.gitignore': '*.tmp\n',
      'src/deep/.gitignore': '!keep.log\n',
      ...Object.fromEntries(everyFile.map((f) => [f, f])),
    });
  });

  it('honours nested .gitignore, .ignore and .filerignore by default', async () => {
    // *.log everywhere but keep.log re-included below src/deep; build/ only matches directories
    // (src/build is a file); *.tmp only below src/; secret* from .ignore; draft/ from .filerignore.
    expect(await found(t)).toEqual(['a.tmp', 'app.txt', 'src/build', 'src/build.txt', 'src/deep/keep.log']);
  });

  it('does not list ignored directories', async () => {
    expect(await found(t, '--type', 'd')).toEqual(['src', 'src/deep']);
  });

  it('turns all of them off with --no-ignore', async () => {
    expect(await found(t, '--no-ignore')).toEqual([...everyFile].sort());
    expect(await found(t, '-I', '--type', 'd')).toEqual(['build', 'draft', 'src', 'src/deep', 'src/deep/build']);
    expect(await found(t, '--no-ignore', '--hidden', '--name', '.*')).toEqual([
      '.filerignore',
      '.gitignore',
      '.ignore',
      'src/.gitignore',
      'src/deep/.gitignore',
    ]);
  });

  it('reads ignore files from the root downward, not above it', async () => {
    const outer = tree({ '.gitignore': '*\n', 'proj/a.txt': 'a', 'proj/b/c.txt': 'c' });
    const r = await runFiler(['find', outer.path('proj'), '--sort', 'path']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${outer.path('proj')}/a.txt\n${outer.path('proj')}/b/c.txt\n`);
  });

  it("applies each root's ignore files to that root only, whatever the thread count", async () => {
    const m = tree({
      'A/.gitignore': '*.log\n',
      'A/a.log': '1',
      'A/a.txt': '1',
      'A/s/.gitignore': '*.md\n',
      'A/s/x.md': '1',
      'A/s/x.js': '1',
      'B/.gitignore': '*.txt\n',
      'B/b.log': '1',
      'B/b.txt': '1',
      'B/s/.gitignore': '*.js\n',
      'B/s/x.md': '1',
      'B/s/x.js': '1',
    });
    const expected = ['A/a.txt', 'A/s/x.js', 'B/b.log', 'B/s/x.md'].map((p) => m.path(p));
    for (const threads of [[], ['--threads', '1'], ['--threads', '0']]) {
      const r = await runFiler(['find', m.path('A'), m.path('B'), '--sort', 'path', ...threads]);
      expect(r.code).toBe(0);
      expect({ threads, paths: lines(r) }).toEqual({ threads, paths: expected });
    }
  });
});

describe('symbolic links', () => {
  let t: TempTree;
  beforeAll(() => {
    t = tree({
      'real/file.txt': 'f',
      'real/sub/deep.txt': 'd',
      'target.txt': 'target',
      'link-file': symlink('target.txt'),
      'link-dir': symlink('real'),
      dangling: symlink('does-not-exist'),
    });
  });

  it('does not list or follow links by default', async () => {
    expect(await found(t)).toEqual(['real/file.txt', 'real/sub/deep.txt', 'target.txt']);
    expect(await found(t, '--type', 'd')).toEqual(['real', 'real/sub']);
  });

  it('lists links, dangling ones included, with --type l', async () => {
    expect(await found(t, '--type', 'l')).toEqual(['dangling', 'link-dir', 'link-file']);
    const r = await runFiler(['find', t.root, '--type', 'l', '--format', 'ndjson', '--sort', 'path']);
    expect(r.code).toBe(0);
    const rows = lines(r).map((l) => JSON.parse(l) as { path: string; type: string; size: number });
    expect(rows.map((o) => [o.path, o.type, o.size])).toEqual([
      [t.path('dangling'), 'symlink', 'does-not-exist'.length],
      [t.path('link-dir'), 'symlink', 'real'.length],
      [t.path('link-file'), 'symlink', 'target.txt'.length],
    ]);
  });

  it('follows links with -L: the linked directory’s contents appear under the link', async () => {
    expect(await found(t, '-L')).toEqual([
      'link-dir/file.txt',
      'link-dir/sub/deep.txt',
      'link-file',
      'real/file.txt',
      'real/sub/deep.txt',
      'target.txt',
    ]);
    expect(await found(t, '--follow', '--type', 'd')).toEqual(['link-dir', 'link-dir/sub', 'real', 'real/sub']);
    // A dangling link stays a link under -L (as with find -L), and is not an error.
    expect(await found(t, '-L', '--type', 'l')).toEqual(['dangling']);
  });

  it('terminates on a loop with -L, reports ELOOP and exits 1', async () => {
    const l = tree({
      'a/f.txt': 'f',
      'a/b/g.txt': 'g',
      'a/b/up': symlink('../..'),
      'a/self': symlink('.'),
    });
    const r = await runFiler(['find', l.root, '-L', '-0'], { timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(relNul(r, l.root).sort()).toEqual(['a/b/g.txt', 'a/f.txt']);
    const errs = splitRecords(r.stderr, '\n');
    expect(errs.sort()).toHaveLength(2);
    expect(errs.some((e) => pathErrorRe(l.path('a/b/up'), 'ELOOP').test(e))).toBe(true);
    expect(errs.some((e) => pathErrorRe(l.path('a/self'), 'ELOOP').test(e))).toBe(true);

    // Without -L the loop links are just links.
    expect(await found(l, '--type', 'l')).toEqual(['a/b/up', 'a/self']);
  });
});

describe('directories', () => {
  it('lists empty directories with --type d, never the root', async () => {
    const t = tree({ e1: dir(), 'e2/nested-empty': dir(), 'full/f.txt': 'f' });
    expect(await found(t, '--type', 'd')).toEqual(['e1', 'e2', 'e2/nested-empty', 'full']);
    expect(await found(t, '--type', 'directory', '--name', 'e*')).toEqual(['e1', 'e2']);
    expect(await found(t)).toEqual(['full/f.txt']);
    const empty = tree({});
    const r = await runFiler(['find', empty.root, '--type', 'd']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
  });
});

describe('unreadable directory (as an unprivileged user)', () => {
  // Root ignores permissions, so the CLI runs as nobody; the temp tree lives under /tmp with mode 0755.
  const asUser = process.getuid?.() === 0 ? { user: 'nobody', group: 'nogroup' } : undefined;
  let t: TempTree;
  beforeAll(() => {
    t = tree(
      {
        'open/a.txt': file('a', { mode: 0o644 }),
        'z.txt': file('z', { mode: 0o644 }),
        open: dir({ mode: 0o755 }),
        'locked/secret.txt': 's',
        'locked/inner/deep.txt': 'd',
        locked: dir({ mode: 0o000 }),
      },
      { parent: '/tmp', rootMode: 0o755 },
    );
  });

  it('can run the CLI as that user at all', async () => {
    const r = await runFiler(['find', t.path('open')], { asUser });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${t.path('open')}/a.txt\n`);
  });

  it('reports EACCES on stderr, lists the rest and exits 1', async () => {
    for (const extra of [[], ['--sort', 'path'], ['--format', 'ndjson']]) {
      const r = await runFiler(['find', t.root, ...extra], { asUser });
      expect(r.code).toBe(1);
      const paths = extra.includes('ndjson') ? lines(r).map((l) => (JSON.parse(l) as { path: string }).path) : lines(r);
      expect(paths.sort()).toEqual([t.path('open/a.txt'), t.path('z.txt')]);
      const errs = splitRecords(r.stderr, '\n');
      expect(errs).toHaveLength(1);
      expect(errs[0]).toMatch(pathErrorRe(t.path('locked'), 'EACCES'));
    }
  });

  it('still lists the unreadable directory itself with --type d', async () => {
    const r = await runFiler(['find', t.root, '--type', 'd'], { asUser });
    expect(r.code).toBe(1);
    expect(lines(r).sort()).toEqual([t.path('locked'), t.path('open')]);
    expect(splitRecords(r.stderr, '\n')).toEqual([expect.stringMatching(pathErrorRe(t.path('locked'), 'EACCES'))]);
  });
});

describe('output formats', () => {
  const T1 = new Date('2024-01-02T03:04:05.000Z');
  const T2 = new Date('2023-06-07T08:09:10.000Z');
  const T3 = new Date('2025-02-03T04:05:06.000Z');
  let t: TempTree;
  let R: string;
  beforeAll(() => {
    t = tree({
      'a.txt': file('abc', { mtime: T1 }),
      'b/c.csv': file('', { mtime: T2 }),
      'd e.txt': file('0123456789', { mtime: T3 }),
    });
    R = t.root;
  });

  it('paths (the default)', async () => {
    const r = await runFiler(['find', R, '--sort', 'path']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(`${R}/a.txt\n${R}/b/c.csv\n${R}/d e.txt\n`);
    const same = await runFiler(['find', R, '--sort', 'path', '--format', 'paths']);
    expect(same.stdout).toBe(r.stdout);
  });

  it('paths with -0', async () => {
    const r = await runFiler(['find', R, '--sort', 'path', '-0']);
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.equals(Buffer.from(`${R}/a.txt\0${R}/b/c.csv\0${R}/d e.txt\0`))).toBe(true);
    expect(r.stdoutBytes.includes(0x0a)).toBe(false);
    const long = await runFiler(['find', R, '--sort', 'path', '--print0']);
    expect(long.stdoutBytes.equals(r.stdoutBytes)).toBe(true);
  });

  it('ndjson', async () => {
    const r = await runFiler(['find', R, '--sort', 'path', '--format', 'ndjson']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(
      `{"path":${JSON.stringify(R + '/a.txt')},"type":"file","size":3,"mtime":"2024-01-02T03:04:05.000Z"}\n` +
        `{"path":${JSON.stringify(R + '/b/c.csv')},"type":"file","size":0,"mtime":"2023-06-07T08:09:10.000Z"}\n` +
        `{"path":${JSON.stringify(R + '/d e.txt')},"type":"file","size":10,"mtime":"2025-02-03T04:05:06.000Z"}\n`,
    );
  });

  it('csv', async () => {
    const r = await runFiler(['find', R, '--sort', 'path', '-f', 'csv']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(
      'path,type,size,mtime\n' +
        `${R}/a.txt,file,3,2024-01-02T03:04:05.000Z\n` +
        `${R}/b/c.csv,file,0,2023-06-07T08:09:10.000Z\n` +
        `${R}/d e.txt,file,10,2025-02-03T04:05:06.000Z\n`,
    );
  });

  it('json', async () => {
    const r = await runFiler(['find', R, '--sort', 'path', '--format', 'json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const row = (p: string, size: number, mtime: string): string =>
      `{"path":${JSON.stringify(R + p)},"type":"file","size":${size},"mtime":"${mtime}"}`;
    expect(r.stdout).toBe(
      '[\n' +
        row('/a.txt', 3, '2024-01-02T03:04:05.000Z') +
        ',\n' +
        row('/b/c.csv', 0, '2023-06-07T08:09:10.000Z') +
        ',\n' +
        row('/d e.txt', 10, '2025-02-03T04:05:06.000Z') +
        '\n]\n',
    );
    expect(JSON.parse(r.stdout)).toHaveLength(3);
  });

  it('no matches: empty paths/ndjson, a csv header, an empty json array', async () => {
    const none = ['--name', 'no-such-name'];
    const out = async (fmt: string): Promise<string> => {
      const r = await runFiler(['find', R, ...none, '--format', fmt]);
      expect(r.code).toBe(0);
      return r.stdout;
    };
    expect(await out('paths')).toBe('');
    expect(await out('ndjson')).toBe('');
    expect(await out('csv')).toBe('path,type,size,mtime\n');
    expect(await out('json')).toBe('[]\n');
  });

  it('streams json without --sort as a valid array too', async () => {
    const r = await runFiler(['find', R, '--format', 'json']);
    expect(r.code).toBe(0);
    const arr = JSON.parse(r.stdout) as { path: string }[];
    expect(arr.map((o) => o.path).sort()).toEqual([`${R}/a.txt`, `${R}/b/c.csv`, `${R}/d e.txt`]);
  });

  it('prints root-as-given joined with the relative path', async () => {
    const rel = async (cwd: string, ...roots: string[]): Promise<string[]> => {
      const r = await runFiler(['find', ...roots, '--sort', 'path'], { cwd });
      expect(r.code).toBe(0);
      return lines(r);
    };
    expect(await rel(R, '.')).toEqual(['./a.txt', './b/c.csv', './d e.txt']);
    expect(await rel(R, 'b')).toEqual(['b/c.csv']);
    expect(await rel(R, 'b/')).toEqual(['b/c.csv']);
    expect(await rel(R, './b')).toEqual(['./b/c.csv']);
    expect(await rel(t.path('b'), '..', '.')).toEqual(['../a.txt', '../b/c.csv', '../d e.txt', './c.csv']);
    expect(await rel(R, `${R}/b/`)).toEqual([`${R}/b/c.csv`]);
  });

  it('writes progress to stderr only when asked (stderr here is not a TTY)', async () => {
    const quiet = await runFiler(['find', R, '--sort', 'path']);
    expect(quiet.stderr).toBe('');
    const loud = await runFiler(['find', R, '--sort', 'path', '--progress']);
    expect(loud.code).toBe(0);
    expect(loud.stdout).toBe(quiet.stdout);
    expect(loud.stderr).not.toContain(R);
  });
});

describe('sorting and limits', () => {
  const now = Math.floor(Date.now() / 1000) * 1000;
  let t: TempTree;
  beforeAll(() => {
    t = tree({
      'a-small': file('x'.repeat(10), { mtime: new Date(now - 5_000) }),
      'big.bin': file('x'.repeat(5000), { mtime: new Date(now - 50_000) }),
      'd/mid-b': file('x'.repeat(300), { mtime: new Date(now - 1_000) }),
      'd/mid-a': file('x'.repeat(300), { mtime: new Date(now - 500_000) }),
      zero: file('', { mtime: new Date(now - 20_000) }),
    });
  });
  const sorted = async (...args: string[]): Promise<string[]> => {
    const r = await runFiler(['find', t.root, ...args]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    return lines(r).map((p) => p.slice(t.root.length + 1));
  };

  it('--sort path: byte order', async () => {
    expect(await sorted('--sort', 'path')).toEqual(['a-small', 'big.bin', 'd/mid-a', 'd/mid-b', 'zero']);
  });

  it('--sort size: largest first, ties by path', async () => {
    expect(await sorted('--sort', 'size')).toEqual(['big.bin', 'd/mid-a', 'd/mid-b', 'a-small', 'zero']);
    const r = await runFiler(['find', t.root, '--sort', 'size', '--format', 'ndjson']);
    const sizes = lines(r).map((l) => (JSON.parse(l) as { size: number }).size);
    expect(sizes).toEqual([5000, 300, 300, 10, 0]);
  });

  it('--sort mtime: newest first', async () => {
    expect(await sorted('--sort', 'mtime')).toEqual(['d/mid-b', 'a-small', 'zero', 'big.bin', 'd/mid-a']);
  });

  it('--limit with --sort keeps the first N of the sorted order', async () => {
    expect(await sorted('--sort', 'size', '--limit', '2')).toEqual(['big.bin', 'd/mid-a']);
    expect(await sorted('--sort', 'mtime', '--limit', '1', '--format', 'paths')).toEqual(['d/mid-b']);
    expect(await sorted('--sort', 'path', '--limit', '99')).toEqual(['a-small', 'big.bin', 'd/mid-a', 'd/mid-b', 'zero']);
  });

  it('--limit without --sort prints exactly N distinct matches', async () => {
    const all = await sorted();
    const some = await sorted('--limit', '3');
    expect(some).toHaveLength(3);
    expect(new Set(some).size).toBe(3);
    for (const p of some) expect(all).toContain(p);
    expect(await sorted('--limit', '0')).toEqual([]);
    const json = await runFiler(['find', t.root, '--limit', '0', '--format', 'json']);
    expect(json.stdout).toBe('[]\n');
    const nd = await runFiler(['find', t.root, '--limit', '2', '--format', 'ndjson']);
    expect(lines(nd)).toHaveLength(2);
  });
});

describe('filters', () => {
  // Whole seconds, so mtimes round-trip exactly and strict bounds can be tested at equality.
  const now = Math.floor(Date.now() / 1000) * 1000;
  const DAY = 86_400_000;
  let t: TempTree;
  beforeAll(() => {
    t = tree({
      's999.bin': file('', { size: 999 }),
      's1000.bin': file('', { size: 1000 }),
      's1024.bin': file('', { size: 1024 }),
      's1025.bin': file('', { size: 1025 }),
      's2048.bin': file('', { size: 2048 }),
      'age/h1.log': file('', { mtime: new Date(now - 3_600_000) }),
      'age/d3.log': file('', { mtime: new Date(now - 3 * DAY) }),
      'age/d10.log': file('', { mtime: new Date(now - 10 * DAY) }),
      'age/d40.log': file('', { mtime: new Date(now - 40 * DAY) }),
      'ext/data.csv': 'c',
      'ext/DATA2.CSV': 'c',
      'ext/readme.MD': 'm',
      'ext/x.csvx': 'x',
      'ext/csv': 'no dot',
      'ext/arch.tar.gz': 'g',
      'ext/hello.txt': 'h',
      'regexdir/plain.dat': 'p',
      'depth/d1.txt': '1',
      'depth/a/d2.txt': '2',
      'depth/a/b/d3.txt': '3',
      'depth/a/b/c/d4.txt': '4',
      'ex/node_modules/x.js': 'x',
      'ex/src/node_modules/y.js': 'y',
      'ex/src/app.js': 'a',
      'ex/src/node_modules.txt': 't',
      'ex/docs/guide.md': 'g',
      'ex/trap/f.txt': 'f',
      'ex/trap/up': symlink('..'),
    });
  });
  const under = async (sub: string, ...args: string[]): Promise<string[]> => {
    const r = await runFiler(['find', t.path(sub), '-0', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return relNul(r, t.path(sub)).sort();
  };

  it('size bounds are inclusive, with decimal and binary units', async () => {
    const sizes = async (...a: string[]): Promise<string[]> => (await found(t, '--name', 's*.bin', ...a)).map((p) => p.slice(1, -4));
    expect(await sizes('--min-size', '1k')).toEqual(['1000', '1024', '1025', '2048']);
    expect(await sizes('--min-size', '1KiB')).toEqual(['1024', '1025', '2048']);
    expect(await sizes('--max-size', '1Ki')).toEqual(['1000', '1024', '999']);
    expect(await sizes('--min-size', '1000', '--max-size', '1024B')).toEqual(['1000', '1024']);
    expect(await sizes('--min-size', '2KiB', '--max-size', '2KiB')).toEqual(['2048']);
  });

  it('size bounds apply to files only', async () => {
    expect(await found(t, '--type', 'd', '--min-size', '0')).toEqual([]);
  });

  it('--newer and --older take ages and ISO dates', async () => {
    expect(await under('age', '--newer', '7d')).toEqual(['d3.log', 'h1.log']);
    expect(await under('age', '--older', '7d')).toEqual(['d10.log', 'd40.log']);
    expect(await under('age', '--newer', '30d', '--older', '2d')).toEqual(['d10.log', 'd3.log']);
    expect(await under('age', '--newer', '2h')).toEqual(['h1.log']);
    expect(await under('age', '--newer', '1w')).toEqual(['d3.log', 'h1.log']);
    const d20 = new Date(now - 20 * DAY);
    const iso = `${d20.getFullYear()}-${String(d20.getMonth() + 1).padStart(2, '0')}-${String(d20.getDate()).padStart(2, '0')}`;
    expect(await under('age', '--newer', iso)).toEqual(['d10.log', 'd3.log', 'h1.log']);
    expect(await under('age', '--older', iso)).toEqual(['d40.log']);
    const exact = new Date(now - 10 * DAY).toISOString();
    expect(await under('age', '--newer', exact)).toEqual(['d3.log', 'h1.log']);
  });

  it('--ext takes a comma list, case-insensitively, with or without dots', async () => {
    expect(await under('ext', '--ext', 'csv')).toEqual(['DATA2.CSV', 'data.csv']);
    expect(await under('ext', '--ext', '.CSV,md')).toEqual(['DATA2.CSV', 'data.csv', 'readme.MD']);
    expect(await under('ext', '-e', 'tar.gz', '-e', 'TXT')).toEqual(['arch.tar.gz', 'hello.txt']);
    expect(await under('ext', '--ext', 'gz')).toEqual(['arch.tar.gz']);
  });

  it('--name is repeatable (any may match) and sees the base name only', async () => {
    expect(await under('ext', '--name', '*.MD', '--name', 'h*')).toEqual(['hello.txt', 'readme.MD']);
    expect(await under('ext', '--name', '*.md')).toEqual([]);
    expect(await found(t, '--name', 'regexdir*')).toEqual([]);
    expect(await found(t, '--name', 'd?.txt')).toEqual(['depth/a/b/c/d4.txt', 'depth/a/b/d3.txt', 'depth/a/d2.txt', 'depth/d1.txt']);
  });

  it('--regex is searched for in the base name (RE2)', async () => {
    expect(await under('ext', '--regex', 'ell')).toEqual(['hello.txt']);
    expect(await under('ext', '--regex', '(?i)^data')).toEqual(['DATA2.CSV', 'data.csv']);
    expect(await under('ext', '--regex', '^data')).toEqual(['data.csv']);
    expect(await found(t, '--regex', 'regexdir')).toEqual([]);
    expect(await under('ext', '--regex', 'csv', '--name', 'x*')).toEqual(['x.csvx']);
    expect(await under('ext', '--regex', 'csv$', '--name', 'x*')).toEqual([]);
  });

  it('--max-depth N: 1 is the root’s children', async () => {
    expect(await under('depth', '--max-depth', '1')).toEqual(['d1.txt']);
    expect(await under('depth', '--max-depth', '2')).toEqual(['a/d2.txt', 'd1.txt']);
    expect(await under('depth', '-d', '3', '--type', 'd')).toEqual(['a', 'a/b', 'a/b/c']);
    expect(await under('depth', '--max-depth', '1', '--type', 'd')).toEqual(['a']);
    expect(await under('depth', '--max-depth', '9')).toEqual(['a/b/c/d4.txt', 'a/b/d3.txt', 'a/d2.txt', 'd1.txt']);
  });

  it('--max-depth 0 lists nothing (the root itself is never listed)', async () => {
    const r = await runFiler(['find', t.path('depth'), '--max-depth', '0']);
    // Either rejected as bad usage or an empty listing; never the root's children.
    expect([0, 2]).toContain(r.code);
    expect(r.stdout).toBe('');
  });

  it('--exclude: base-name globs at any depth, path globs from the root; excluded dirs are not entered', async () => {
    expect(await under('ex', '--exclude', 'node_modules')).toEqual(['docs/guide.md', 'src/app.js', 'src/node_modules.txt', 'trap/f.txt']);
    expect(await under('ex', '--exclude', 'src/node_modules', '--exclude', 'trap')).toEqual([
      'docs/guide.md',
      'node_modules/x.js',
      'src/app.js',
      'src/node_modules.txt',
    ]);
    expect(await under('ex', '-E', '*.js', '-E', 'docs', '-E', 'trap')).toEqual(['src/node_modules.txt']);
    expect(await under('ex', '--exclude', 'node_modules', '--type', 'd')).toEqual(['docs', 'src', 'trap']);
    // trap/up loops back to ex/: with -L walking into trap/ would report ELOOP (exit 1).
    expect(await under('ex', '-L', '--exclude', 'trap', '--ext', 'md')).toEqual(['docs/guide.md']);
    const entered = await runFiler(['find', t.path('ex'), '-L', '--ext', 'md']);
    expect(entered.code).toBe(1);
    expect(entered.stderr).toContain('[ELOOP]');
  });
});

describe('bad input: exit 2, one stderr line naming the flag and the value, nothing on stdout', () => {
  let t: TempTree;
  beforeAll(() => {
    t = tree({ 'a.txt': 'a' });
  });
  const cases: [name: string, args: (root: string) => string[], mustName: string[]][] = [
    ['unknown flag', (r) => ['find', r, '--frobnicate'], ['--frobnicate']],
    ['bad size unit', (r) => ['find', r, '--min-size', '10XB'], ['--min-size', '10XB']],
    ['bad max size', (r) => ['find', r, '--max-size', 'lots'], ['--max-size', 'lots']],
    ['bad time', (r) => ['find', r, '--newer', 'yesterdayish'], ['--newer', 'yesterdayish']],
    ['bad older time', (r) => ['find', r, '--older', '2024-02-30'], ['--older', '2024-02-30']],
    ['bad type', (r) => ['find', r, '--type', 'x'], ['--type', "'x'"]],
    ['negative depth', (r) => ['find', r, '--max-depth', '-1'], ['--max-depth', '-1']],
    ['non-numeric depth', (r) => ['find', r, '--max-depth', 'deep'], ['--max-depth', 'deep']],
    ['missing root', (r) => ['find', `${r}/does-not-exist`], [`${'does-not-exist'}`]],
    ['root is a file', (r) => ['find', `${r}/a.txt`], ['a.txt']],
    ['backreference regex', (r) => ['find', r, '--regex', '(a)\\1'], ['--regex', '(a)\\1']],
    ['lookahead regex', (r) => ['find', r, '--regex', 'a(?=b)'], ['--regex', 'a(?=b)']],
    ['bad format', (r) => ['find', r, '--format', 'xml'], ['--format', 'xml']],
    ['bad sort key', (r) => ['find', r, '--sort', 'colour'], ['--sort', 'colour']],
    ['negative limit', (r) => ['find', r, '--limit', '-3'], ['--limit', '-3']],
    ['min above max', (r) => ['find', r, '--min-size', '5k', '--max-size', '1k'], ['--min-size', '5k']],
    ['-0 with ndjson', (r) => ['find', r, '-0', '--format', 'ndjson'], ['ndjson']],
    ['bad root among good ones', (r) => ['find', r, `${r}/nope`], ['nope']],
  ];
  for (const [name, args, mustName] of cases) {
    it(name, async () => {
      const r = await runFiler(args(t.root));
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(splitRecords(r.stderr, '\n')).toHaveLength(1);
      expect(r.stderr.startsWith('filer: ')).toBe(true);
      for (const s of mustName) expect(r.stderr).toContain(s);
    });
  }
});
