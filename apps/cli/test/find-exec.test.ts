import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler } from '@filer/testing';

/*
 * `filer find … -x CMD` and `-X CMD`: real commands run by the built CLI as a process. The
 * placeholders against what the shell makes of the same path, every match run exactly once,
 * lines of parallel runs never cut into each other, -X batches under the argument limit, exit
 * codes, and bad command lines refused before anything runs.
 */

let root: string;
let scratch: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-exec-'));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-exec-out-'));
  const files = ['a/one.txt', 'a/b/two.tar.gz', 'sp ace/.hidden-no-ext', 'sp ace/x y.md', 'c/no_ext', 'c/d/ünï cödé.txt'];
  for (const f of files) {
    fs.mkdirSync(path.join(root, path.dirname(f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), f);
  }
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** Every regular file below root, as find(1) lists it. */
function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
}

describe('filer find -x', () => {
  it("expands fd's placeholders as the shell's basename/dirname would, once per match", async () => {
    const r = await runFiler(['find', root, '--hidden', '-x', 'printf', '%s|%s|%s|%s|%s\\n', '{}', '{/}', '{//}', '{.}', '{/.}', ';']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').sort();
    const expected = allFiles(root).map((p) => {
      const base = path.basename(p);
      const dot = base.lastIndexOf('.');
      const stem = dot <= 0 ? base : base.slice(0, dot);
      return [p, base, path.dirname(p), path.join(path.dirname(p), stem), stem].join('|');
    });
    expect(rows).toEqual(expected.sort());
  });

  it('appends the path when no argument has a placeholder, and never cuts a run’s lines into another’s', async () => {
    // Each run writes 200 lines in 200 writes: buffered per run, one run's lines stay together.
    const script = 'for i in $(seq 1 200); do echo "$1 $i"; done';
    const r = await runFiler(['find', root, '--hidden', '-j', '4', '-x', 'sh', '-c', script, 'sh']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const files = allFiles(root);
    expect(lines).toHaveLength(files.length * 200);
    for (let i = 0; i < lines.length; i += 200) {
      const file = lines[i].slice(0, lines[i].lastIndexOf(' '));
      expect(lines.slice(i, i + 200)).toEqual(Array.from({ length: 200 }, (_, k) => `${file} ${k + 1}`));
    }
    expect(
      lines
        .filter((l) => l.endsWith(' 1'))
        .map((l) => l.slice(0, -2))
        .sort(),
    ).toEqual(files);
  });

  it('exits 1 when any run fails, and 0 when all succeed', async () => {
    const failing = await runFiler(['find', root, '--ext', 'gz', '-x', 'sh', '-c', 'exit 3']);
    expect(failing.code).toBe(1);
    const fine = await runFiler(['find', root, '--ext', 'gz', '-x', 'true']);
    expect(fine.code, fine.stderr).toBe(0);
  });

  it('a command that cannot start is reported once, with exit 1', async () => {
    const r = await runFiler(['find', root, '--hidden', '-x', 'no-such-command-filer']);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/cannot run 'no-such-command-filer': command not found \[E_EXEC\]/g)).toHaveLength(1);
  });

  it('filters still apply, and the rest of the line after ";" is find’s again', async () => {
    const r = await runFiler(['find', root, '-x', 'echo', 'got', '{/}', ';', '--ext', 'txt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['got one.txt', 'got ünï cödé.txt']);
  });
});

describe('filer find -X', () => {
  it('runs once with every match when they fit in one command line', async () => {
    const log = path.join(scratch, 'batch-small');
    const r = await runFiler(['find', root, '--hidden', '-X', 'sh', '-c', `echo run >> '${log}'; printf '%s\\n' "$@"`, 'sh']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(log, 'utf8')).toBe('run\n');
    expect(r.stdout.trim().split('\n').sort()).toEqual(allFiles(root));
  });

  it('splits 12,000 long paths into runs under the argument limit, each path passed exactly once', async () => {
    const big = fs.mkdtempSync(path.join(scratch, 'many-'));
    const dir = path.join(big, 'd'.repeat(120));
    fs.mkdirSync(dir);
    for (let i = 0; i < 12_000; i++) fs.writeFileSync(path.join(dir, `${'f'.repeat(100)}-${i}`), '');
    const log = path.join(scratch, 'batch-big');
    // About 3 MB of arguments: more than one execve allows (2 MiB here), so more than one run.
    const r = await runFiler(['find', big, '-X', 'sh', '-c', `echo "$#" >> '${log}'; printf '%s\\n' "$@"`, 'sh']);
    expect(r.code, r.stderr).toBe(0);
    const runs = fs.readFileSync(log, 'utf8').trim().split('\n').map(Number);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(12_000);
    const printed = r.stdout.trim().split('\n');
    expect(new Set(printed).size).toBe(12_000);
    expect(printed.sort()).toEqual(allFiles(big));
  }, 60_000);

  it('repeats an argument with a placeholder for each path', async () => {
    const r = await runFiler(['find', root, '--ext', 'txt', '-X', 'echo', '--file={/}', 'end']);
    expect(r.code, r.stderr).toBe(0);
    const words = r.stdout.trim().split(/ (?=--file=|end$)/);
    expect(words.at(-1)).toBe('end');
    expect(words.slice(0, -1).sort()).toEqual(['--file=one.txt', '--file=ünï cödé.txt']);
  });
});

describe('bad command lines change nothing', () => {
  it.each([
    [['-x'], /-x: needs a command to run/],
    [['-X', ';'], /-X: needs a command to run/],
    [['-x', 'touch', 'MARK', ';', '-X', 'touch', 'MARK'], /-X: only one of -x\/--exec and -X\/--exec-batch/],
    [['--format', 'ndjson', '-x', 'touch', 'MARK'], /--format: .*--format ndjson has no use with them/],
    [['-j', '0', '-x', 'touch', 'MARK'], /--jobs: invalid number '0'/],
  ])('%j', async (args, message) => {
    const marker = path.join(scratch, 'never');
    const r = await runFiler(['find', root, ...args.map((a) => (a === 'MARK' ? marker : a))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(marker)).toBe(false);
  });
});
