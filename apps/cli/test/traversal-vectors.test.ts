import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, runFiler, runProcess, type ProcessResult } from '@filer/testing';

/**
 * Battery 23 in the CLI. The CLI has no allowed roots (it acts for the user who runs it), so a
 * traversal vector must be a clear error or harmless: taken literally, never decoded, nothing
 * written but where the path literally leads. And walking a root never follows its symlinks:
 * under strace, nothing below a link's target is opened or stat'ed, and no link is stat'ed
 * through (portable walk and native scanner alike).
 */

let sandbox: string;
/** The working directory of every run: three levels below the sandbox, so `../../../x` stays inside it. */
let cwd: string;
let src: string;
let outside: string;
let env: Record<string, string>;

/** Every file and directory below `dir` with its content, as one sorted listing. */
function listing(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .map((e) => {
      const p = path.join(e.parentPath, e.name);
      const rel = path.relative(dir, p);
      return e.isFile() ? `${rel}\t${fs.readFileSync(p, 'utf8')}` : e.isSymbolicLink() ? `${rel} -> ${fs.readlinkSync(p)}` : `${rel}/`;
    })
    .sort();
}

beforeAll(() => {
  sandbox = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-cli-vectors-')));
  cwd = path.join(sandbox, 'w', 'x', 'y');
  src = path.join(sandbox, 'SRC');
  outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-cli-outside-')));
  fs.mkdirSync(cwd, { recursive: true });
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'a.txt'), 'alpha');
  fs.writeFileSync(path.join(outside, 'keep.txt'), 'outside');
  env = { XDG_CACHE_HOME: path.join(sandbox, 'cache') };
});

afterAll(() => {
  for (const d of [sandbox, outside]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

/** The battery's vectors as a user could type them (argv cannot carry a NUL byte: the kernel ends the string there). */
const vectors = (): [string, string][] => [
  ['../../../etc/passwd', '../../../etc/passwd'],
  ['/etc/passwd', '/etc/passwd'],
  ['ROOT/../etc', `${src}/../etc`],
  ['%2e%2e%2f', '%2e%2e%2f%2e%2e%2fetc'],
  ['%252e%252e%252f', '%252e%252e%252fetc'],
  ['..%c0%af', '..%c0%af..%c0%afetc'],
  ['．．／', '\uff0e\uff0e\uff0f\uff0e\uff0e\uff0fetc'],
  ['..∕', '..\u2215..\u2215etc'],
  ['....//', '....//....//etc'],
  ['..\\..\\', '..\\..\\etc'],
  ['10,000-character path', `${sandbox}/${'d/'.repeat(5000)}x`],
  ['300-byte segment', 'x'.repeat(300)],
  ['~', '~'],
  ['empty', ''],
  ['C:\\Windows', 'C:\\Windows'],
  ['\\\\server\\share', '\\\\server\\share'],
  ['CON', 'CON'],
  ['file.txt:stream', 'file.txt:stream'],
];

describe('traversal vectors in the CLI (battery 23)', () => {
  it('as roots of find and copy: exit 2 with a message naming the root, nothing listed or written', async () => {
    const before = listing(sandbox);
    const runs = await Promise.all(
      vectors().flatMap(([name, v]) => [
        runFiler(['find', v], { cwd, env }).then((r) => ({ name: `find ${name}`, v, r })),
        runFiler(['copy', v, '--dest', path.join(sandbox, 'copied'), '--apply'], { cwd, env }).then((r) => ({
          name: `copy ${name}`,
          v,
          r,
        })),
      ]),
    );
    for (const { name, v, r } of runs) {
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stdout, name).toBe('');
      expect(r.stderr, name).toMatch(/^filer: /);
      expect(r.stderr, name).toContain(`'${v.slice(0, 40)}`);
    }
    expect(listing(sandbox)).toEqual(before);
    expect(listing(outside)).toEqual(['keep.txt\toutside']);
  });

  it('as --dest of copy --apply: a clear refusal, or the file copied to exactly where the literal path leads', async () => {
    const before = listing(sandbox);
    const runs = await Promise.all(
      vectors().map(([name, v]) => runFiler(['copy', src, '--dest', v, '--apply'], { cwd, env }).then((r) => ({ name, v, r }))),
    );
    const written: string[] = [];
    const outcomes: string[] = [];
    for (const { name, v, r } of runs) {
      if (r.code === 0) {
        // Where the path leads, read literally from the working directory: no decoding, no folding beyond `//`.
        const target = path.join(path.resolve(cwd, v), 'a.txt');
        expect(fs.readFileSync(target, 'utf8'), name).toBe('alpha');
        expect(target.startsWith(sandbox + '/'), `${name} wrote ${target}`).toBe(true);
        written.push(target);
        outcomes.push(`${name}: copied to ${path.relative(sandbox, target)}`);
      } else {
        expect([2, 3], `${name}: ${r.stderr}`).toContain(r.code);
        expect(r.stderr, name).toMatch(/^filer: /m);
        outcomes.push(`${name}: exit ${r.code}`);
      }
    }
    console.info(`CLI --dest vectors: ${outcomes.join('; ')}`);
    // The refusals: an empty --dest, a file on the way, names too long.
    for (const refused of ['empty', '/etc/passwd', '10,000-character path', '300-byte segment'])
      expect(runs.find((x) => x.name === refused)!.r.code, refused).not.toBe(0);
    // Nothing else appeared in the sandbox; nothing at all outside it.
    const expected = new Set(before);
    for (const t of written) {
      expected.add(`${path.relative(sandbox, t)}\talpha`);
      for (let d = path.dirname(t); d !== sandbox; d = path.dirname(d)) expected.add(`${path.relative(sandbox, d)}/`);
    }
    expect(listing(sandbox).filter((l) => !l.startsWith('cache/') && l !== 'cache/')).toEqual(
      [...expected].filter((l) => !l.startsWith('cache/') && l !== 'cache/').sort(),
    );
    expect(listing(outside)).toEqual(['keep.txt\toutside']);
  });
});

/** One traced system call that names a path. */
interface Traced {
  call: string;
  /** The paths it names: quoted arguments, joined to their directory descriptor's path (strace -y) when relative. */
  paths: string[];
  args: string;
  line: string;
}

/** Parses `strace -f -y` output into the calls that name paths. The buffer readlink fills is output, not a path it opens. */
function parseTrace(text: string): Traced[] {
  const out: Traced[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\d+ +/, '');
    const m = /^([a-z_0-9]+)\((.*)\) += /.exec(line);
    if (m === null) continue;
    const [, call, args] = m;
    const dirfd = /^(?:AT_FDCWD|-?\d+<([^>]*)>)/.exec(args)?.[1];
    let quoted = [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((q) => q[1]);
    if (call.startsWith('readlink')) quoted = quoted.slice(0, 1);
    const paths = quoted.map((q) => (q.startsWith('/') || dirfd === undefined ? q : `${dirfd}/${q}`));
    for (const fd of args.matchAll(/\d+<([^>]*)>/g)) paths.push(fd[1]);
    out.push({ call, paths, args, line });
  }
  return out;
}

/** The calls that look below a link's target, or resolve a link (open or stat it without NOFOLLOW). */
function violations(trace: Traced[], targets: readonly string[], links: readonly string[]): string[] {
  const bad: string[] = [];
  for (const t of trace) {
    if (t.paths.some((p) => targets.some((o) => p === o || p.startsWith(o + '/')))) bad.push(t.line);
    else if (t.paths.some((p) => links.includes(p))) {
      const nofollow =
        t.call === 'lstat' ||
        t.call.startsWith('readlink') ||
        t.args.includes('AT_SYMLINK_NOFOLLOW') ||
        t.args.includes('O_NOFOLLOW') ||
        t.call.startsWith('unlink');
      if (!nofollow) bad.push(t.line);
    }
  }
  return bad;
}

describe('walking a root never goes through its symlinks (battery 23, strace)', () => {
  let root: string;
  let targets: string[];
  let links: string[];

  beforeAll(() => {
    root = path.join(sandbox, 'walked');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'same.txt'), 'same content');
    fs.writeFileSync(path.join(root, 'sub', 'also.txt'), 'same content');
    // Targets outside the root, holding files that would be found (and be duplicates) if followed.
    const far = path.join(outside, 'far');
    fs.mkdirSync(path.join(far, 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(far, 'secret.txt'), 'same content');
    fs.writeFileSync(path.join(far, 'deeper', 'secret2.txt'), 'same content');
    fs.writeFileSync(path.join(outside, 'lone.txt'), 'same content');
    const hop = path.join(outside, 'hop');
    fs.symlinkSync(root, hop); // in → out → in
    targets = [far, path.join(outside, 'lone.txt'), hop, path.join(outside, 'missing')];
    links = ['to-dir', 'to-file', 'sub/rel-to-dir', 'dangling', 'chain'].map((l) => path.join(root, l));
    fs.symlinkSync(far, links[0]);
    fs.symlinkSync(path.join(outside, 'lone.txt'), links[1]);
    fs.symlinkSync(path.relative(path.join(root, 'sub'), far), links[2]);
    fs.symlinkSync(path.join(outside, 'missing'), links[3]);
    fs.symlinkSync(hop, links[4]);
  });

  const traced = async (args: string[], extraEnv: Record<string, string> = {}): Promise<{ r: ProcessResult; trace: Traced[] }> => {
    const file = path.join(sandbox, `trace-${Math.random().toString(36).slice(2)}`);
    const r = await runProcess(
      'strace',
      [
        '-f',
        '-qq',
        '-y',
        '-o',
        file,
        '-e',
        'trace=openat,open,stat,lstat,statx,newfstatat,access,faccessat,faccessat2,readlink,readlinkat,chdir',
        process.execPath,
        FILER_BIN,
        ...args,
      ],
      { env: { ...env, ...extraEnv }, timeoutMs: 120_000 },
    );
    const trace = parseTrace(fs.readFileSync(file, 'utf8'));
    fs.rmSync(file);
    return { r, trace };
  };

  it.each([
    ['native scanner', {}],
    ['portable walk', { FILER_NATIVE_SCAN: '0' }],
  ] as const)('find and dupes (%s): nothing below a link target is opened or stat’ed, no link is resolved', async (_name, extraEnv) => {
    const commands = [
      ['find', root],
      ['find', root, '--format', 'ndjson', '--hidden', '--no-ignore'],
      ['find', root, '--type', 'l', '--format', 'ndjson'],
      ['dupes', root, '--no-cache', '--format', 'ndjson'],
      ['manifest', root, '--hash', '--format', 'ndjson', '--out', '-'],
    ];
    for (const args of commands) {
      const { r, trace } = await traced(args, extraEnv);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).not.toContain(outside);
      expect(r.stdout).not.toMatch(/secret|lone/);
      // The trace did see the walk (so an empty violation list means something).
      expect(
        trace.some((t) => t.paths.some((p) => p.startsWith(path.join(root, 'sub')))),
        args.join(' '),
      ).toBe(true);
      expect(violations(trace, targets, links), args.join(' ')).toEqual([]);
    }
  });

  it('the check sees a walk that does follow links (find --follow)', async () => {
    const { r, trace } = await traced(['find', root, '--follow']);
    // The chain back into the root is a loop, reported (exit 1); the rest is listed.
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('ELOOP');
    expect(r.stdout).toContain('secret.txt');
    expect(violations(trace, targets, links).length).toBeGreaterThan(0);
  });
});
