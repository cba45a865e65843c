import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, runFiler, runProcess, TmpfsMounts, type ProcessResult } from '@filer/testing';

/**
 * Battery item 9, special files and loops: a tree with a FIFO, a socket, a character device
 * (`mknod c 1 3`), a symlink to /dev/zero, a symlink loop a→b→a, a directory loop `sub/up → ..`,
 * a hard-link farm (one file under 500 names) and a 10 GiB sparse file. `find`, `dupes` and
 * `copy --follow` each finish in under 10 s, traced with `strace -f -e trace=open,openat,openat2`:
 * no FIFO, socket or device is ever opened; each looping name is reported once, with a clear
 * message; dupes counts the 500 names as one file (0 bytes wasted); the copy's free-space check
 * counts the sparse file's apparent size and refuses a 1 GiB tmpfs before writing anything.
 */

const GiB = 1024 ** 3;
const SPECIAL = ['special.fifo', 'special.sock', 'special.null', 'special.zero'];

let base: string;
let tree: string;
let socketServer: net.Server;
const mounts = new TmpfsMounts();

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-battery-09-'));
  tree = path.join(base, 'T');
  fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'farm'));
  execFileSync('mkfifo', [path.join(tree, 'special.fifo')]);
  socketServer = net.createServer();
  await new Promise<void>((resolve) => socketServer.listen(path.join(tree, 'special.sock'), resolve));
  execFileSync('mknod', [path.join(tree, 'special.null'), 'c', '1', '3']);
  fs.symlinkSync('/dev/zero', path.join(tree, 'special.zero'));
  fs.symlinkSync('loop-b', path.join(tree, 'loop-a'));
  fs.symlinkSync('loop-a', path.join(tree, 'loop-b'));
  fs.symlinkSync('..', path.join(tree, 'sub/up'));
  fs.writeFileSync(path.join(tree, 'sub/plain.txt'), 'plain');
  fs.writeFileSync(path.join(tree, 'farm/f000'), 'one file, five hundred names');
  for (let i = 1; i < 500; i++) fs.linkSync(path.join(tree, 'farm/f000'), path.join(tree, `farm/f${String(i).padStart(3, '0')}`));
  const fd = fs.openSync(path.join(tree, 'sparse.bin'), 'w');
  fs.ftruncateSync(fd, 10 * GiB);
  fs.closeSync(fd);
});

afterAll(async () => {
  await new Promise<void>((resolve) => socketServer.close(() => resolve()));
  try {
    mounts.unmountAll();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

interface Traced extends ProcessResult {
  ms: number;
  /** Every path the CLI and its threads passed to open/openat/openat2. */
  opened: string[];
}

/** Runs the built CLI under strace (every thread), timing it and collecting what it opened. */
async function traced(args: string[], name: string): Promise<Traced> {
  const trace = path.join(base, `${name}.strace`);
  const t0 = Date.now();
  const r = await runProcess(
    'strace',
    ['-f', '-qq', '-s', '4096', '-e', 'trace=open,openat,openat2', '-o', trace, process.execPath, FILER_BIN, ...args],
    { env: { XDG_CACHE_HOME: path.join(base, `cache-${name}`) }, timeoutMs: 60_000 },
  );
  const ms = Date.now() - t0;
  const opened = [...fs.readFileSync(trace, 'utf8').matchAll(/\bopen(?:at2?)?\((?:[^,]*, )?"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  return { ...r, ms, opened };
}

/** Opens of a special file: by any path ending in its name, and /dev/zero itself. */
function specialOpens(t: Traced): string[] {
  return t.opened.filter((p) => p === '/dev/zero' || SPECIAL.includes(path.basename(p)));
}

const stderrLines = (r: ProcessResult): string[] => r.stderr.split('\n').filter((l) => l !== '');

/** The three looping names, each reported exactly once with a message that says what is wrong. */
function expectLoopsOnce(r: ProcessResult): void {
  const loops = stderrLines(r).filter((l) => l.includes('[ELOOP]'));
  expect(loops.sort()).toEqual(
    [
      `filer: ${tree}/loop-a: too many symbolic links encountered [ELOOP]`,
      `filer: ${tree}/loop-b: too many symbolic links encountered [ELOOP]`,
      `filer: ${tree}/sub/up: file system loop: ${tree}/sub/up leads back to one of its ancestors [ELOOP]`,
    ].sort(),
  );
}

/** The regular files a walk lists: the 500 names of the farm, the sparse file, one plain file. */
const regularFiles = (): string[] =>
  [
    ...Array.from({ length: 500 }, (_, i) => `${tree}/farm/f${String(i).padStart(3, '0')}`),
    `${tree}/sparse.bin`,
    `${tree}/sub/plain.txt`,
  ].sort();

describe('battery 9: special files and loops never hang, are never opened, loops are reported once', () => {
  it('find: lists the regular files, opens no special file; with -L each loop once (exit 1)', { timeout: 120_000 }, async () => {
    const plain = await traced(['find', tree, '--format', 'ndjson'], 'find');
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toBe('');
    const listed = plain.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { path: string; size: number });
    expect(listed.map((e) => e.path).sort()).toEqual(regularFiles());
    expect(listed.find((e) => e.path.endsWith('sparse.bin'))!.size).toBe(10 * GiB);

    const follow = await traced(['find', tree, '-L'], 'find-L');
    expect(follow.code).toBe(1);
    expectLoopsOnce(follow);
    // /dev/zero is a device: the followed link is no file, so it is not listed.
    expect(
      follow.stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual(regularFiles());

    const types = await traced(['find', tree, '--type', 'l'], 'find-type-l');
    expect(types.code, types.stderr).toBe(0);
    expect(
      types.stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual([`${tree}/loop-a`, `${tree}/loop-b`, `${tree}/special.zero`, `${tree}/sub/up`].sort());

    for (const t of [plain, follow, types]) {
      expect(t.ms).toBeLessThan(10_000);
      // The trace saw the walk (the root was opened), and no special file.
      expect(t.opened).toContain(tree);
      expect(specialOpens(t)).toEqual([]);
    }
  });

  it(
    'dupes: the 500 hard links are one file (0 bytes wasted); no special file opened; with -L each loop once',
    { timeout: 120_000 },
    async () => {
      for (const follow of [false, true]) {
        const t = await traced(['dupes', tree, '--no-cache', ...(follow ? ['-L'] : [])], follow ? 'dupes-L' : 'dupes');
        expect(t.stdout).toContain('0 groups, 0 duplicate files, 0 B wasted (0 bytes)');
        expect(t.stdout).toContain('499 extra hard links');
        if (follow) {
          expect(t.code).toBe(1);
          expectLoopsOnce(t);
        } else {
          expect(t.code, t.stderr).toBe(0);
          expect(t.stderr).toBe('');
        }
        expect(t.ms).toBeLessThan(10_000);
        expect(t.opened).toContain(tree);
        expect(specialOpens(t)).toEqual([]);
      }
    },
  );

  it(
    'copy --follow onto a 1 GiB tmpfs: refused by the free-space check (the sparse file counts 10 GiB), nothing written',
    { timeout: 120_000 },
    async () => {
      const mnt = mounts.mount(base, 'size=1g');
      const t = await traced(['copy', tree, '-L', '--dest', path.join(mnt, 'out'), '--apply'], 'copy-L');
      expect(t.code, t.stderr).toBe(3);
      expectLoopsOnce(t);
      const bytes = 10 * GiB + 500 * 28 + 5;
      expect(t.stdout).toContain('plan: 502 to copy (10.0 GiB)');
      expect(t.stderr).toMatch(new RegExp(`filer: not enough free space: ${bytes} bytes to copy, ${GiB} available at ${mnt}/out`));
      expect(fs.readdirSync(mnt)).toEqual([]);
      expect(t.ms).toBeLessThan(10_000);
      expect(t.opened).toContain(tree);
      expect(specialOpens(t)).toEqual([]);
    },
  );
});

describe('copy --follow copies what a symlinked file leads to', () => {
  it('the copy holds the linked file’s bytes; move --follow leaves such a link and says why', async () => {
    const dir = fs.mkdtempSync(path.join(base, 'follow-'));
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(dir, 'elsewhere.txt'), 'bytes behind the link');
    fs.symlinkSync(path.join(dir, 'elsewhere.txt'), path.join(src, 'link.txt'));
    fs.writeFileSync(path.join(src, 'real.txt'), 'a real file');
    const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };

    const copy = await runFiler(['copy', src, '-L', '--dest', path.join(dir, 'copied'), '--apply'], { env });
    expect(copy.code, copy.stderr).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'copied/link.txt')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'copied/link.txt'), 'utf8')).toBe('bytes behind the link');
    expect(fs.readFileSync(path.join(dir, 'copied/real.txt'), 'utf8')).toBe('a real file');

    const move = await runFiler(['move', src, '-L', '--dest', path.join(dir, 'moved'), '--apply'], { env });
    expect(move.code).toBe(1);
    expect(move.stderr).toContain(
      `filer: ${src}/link.txt: a symbolic link to ${dir}/elsewhere.txt: move --follow moves files, not what links lead to; the link is left in place [E_SYMLINK]\n`,
    );
    expect(fs.readFileSync(path.join(dir, 'moved/real.txt'), 'utf8')).toBe('a real file');
    expect(fs.readlinkSync(path.join(src, 'link.txt'))).toBe(path.join(dir, 'elsewhere.txt'));
    expect(fs.readFileSync(path.join(dir, 'elsewhere.txt'), 'utf8')).toBe('bytes behind the link');
  });
});
