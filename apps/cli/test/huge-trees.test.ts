import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, nativeAddonOff, runProcess, splitRecords, type ProcessResult } from '@filer/testing';

/**
 * Battery item 10 (find and dupes): a directory of 200,000 entries and a chain of directories
 * 1,500 levels deep. Paths of PATH_MAX (4,096) bytes or more can be neither opened nor stat'ed by
 * name, so filer reports each place where the walk meets one as ENAMETOOLONG (exit 1) and lists
 * everything shorter: exactly what GNU find lists below that length. No stack overflow, no crash,
 * and memory stays within bounds — with the native addon and with FILER_NATIVE_SCAN=0.
 */
const WIDE = 200_000;
const DEPTH = 1_500;
const LEVEL = 'level_0001'; // 11 bytes a level with its '/': the chain's paths pass 16 KB
const PATH_MAX = 4096;
// Under AddressSanitizer (scripts/native-sanitizers.sh) the freed-memory quarantine and the shadow
// memory add a few hundred MB to every process: the bound there only catches a runaway.
const RSS_LIMIT_KB = (process.env.LD_PRELOAD?.includes('libasan') ? 1024 : 300) * 1024;

let tmp: string;
/** The tree of both: `wide/` (200,000 files, every 1,000th holding the same bytes) and `deep/…`. */
let root: string;
/** A chain whose directory at some level is 4,093 bytes long: its files' paths cross PATH_MAX. */
let edge: string;

/** Builds a chain of `depth` directories under `dir` (each holding f.txt = "x"), stepping in with relative paths: the absolute ones outgrow PATH_MAX. */
function chain(dir: string, depth: number): void {
  const script = `
    const fs = require('node:fs');
    process.chdir(process.argv[1]);
    for (let i = 0; i < ${depth}; i++) { fs.mkdirSync('${LEVEL}'); process.chdir('${LEVEL}'); fs.writeFileSync('f.txt', 'x'); }`;
  const r = spawnSync(process.execPath, ['-e', script, dir], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

/** A directory name that puts every level of a chain below `base/NAME` where `ok(length of its path)` holds. */
function padding(base: string, ok: (dirLen: number) => boolean): string {
  for (let n = 1; n < 64; n++) {
    const start = Buffer.byteLength(base) + 1 + n;
    let fine = true;
    for (let len = start; len < PATH_MAX + 16; len += LEVEL.length + 1) fine &&= ok(len);
    if (fine) return 'p'.repeat(n);
  }
  throw new Error('no padding found');
}

beforeAll(() => {
  // On tmpfs where there is one: creating 200,000 files on a loaded machine's ext4 took 70 s, on
  // tmpfs 2 s; the walk over them is the same.
  tmp = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'filer-huge-'));
  root = join(tmp, 'tree');
  const wide = spawnSync(
    process.execPath,
    [
      '-e',
      `const fs = require('node:fs'); const dir = process.argv[1] + '/wide'; fs.mkdirSync(dir, { recursive: true });
       for (let i = 0; i < ${WIDE}; i++) {
         const fd = fs.openSync(dir + '/f' + String(i).padStart(6, '0'), 'w');
         if (i % 1000 === 0) fs.writeSync(fd, 'duplicate');
         fs.closeSync(fd);
       }`,
      root,
    ],
    { encoding: 'utf8' },
  );
  expect(wide.status, wide.stderr).toBe(0);
  // No level of this chain ends in 4,090–4,095 bytes: every directory either lists its files whole or cannot be listed.
  const deep = join(
    root,
    padding(root, (len) => len <= PATH_MAX - 7 || len >= PATH_MAX),
  );
  mkdirSync(deep);
  chain(deep, DEPTH);
  edge = join(tmp, 'edge');
  const edgeRoot = join(edge, edgePad(edge));
  mkdirSync(edgeRoot, { recursive: true });
  chain(edgeRoot, 400);
}, 300_000);

afterAll(() => {
  // rm walks below PATH_MAX with openat; node's rmSync would stop at the first path too long.
  if (tmp) spawnSync('rm', ['-rf', tmp]);
});

/** The padding that makes one of `base`'s chain levels exactly 4,093 bytes long. */
function edgePad(base: string): string {
  const start = Buffer.byteLength(base) + 1;
  for (let n = 1; n < 64; n++) if ((PATH_MAX - 3 - (start + n)) % (LEVEL.length + 1) === 0) return 'e'.repeat(n);
  throw new Error('no padding found');
}

const reached = new Map<string, string[]>();
/** GNU find's files under `dir` whose paths are shorter than PATH_MAX: what filer can reach. */
function reachable(dir: string): string[] {
  if (!reached.has(dir)) {
    const r = spawnSync('find', [dir, '-type', 'f', '-print0'], { maxBuffer: 256 << 20 });
    expect(r.status).toBe(0);
    reached.set(
      dir,
      splitRecords(r.stdout)
        .filter((p) => Buffer.byteLength(p) < PATH_MAX)
        .sort(),
    );
  }
  return reached.get(dir)!;
}

/** The directories and files under `dir` the walk meets but cannot use: paths of PATH_MAX bytes or more whose parent is shorter. */
function tooLong(dir: string): string[] {
  const r = spawnSync('find', [dir, '(', '-type', 'f', '-o', '-type', 'd', ')', '-print0'], { maxBuffer: 256 << 20 });
  return splitRecords(r.stdout)
    .filter((p) => Buffer.byteLength(p) >= PATH_MAX && Buffer.byteLength(p.slice(0, p.lastIndexOf('/'))) < PATH_MAX)
    .sort();
}

/** Runs filer under GNU time: its result and peak resident memory in KB. */
async function filer(args: string[], env: Record<string, string>): Promise<ProcessResult & { rssKb: number }> {
  const rssFile = join(tmp, `rss-${Math.random().toString(36).slice(2)}`);
  const r = await runProcess('/usr/bin/time', ['-f', '%M', '-o', rssFile, process.execPath, FILER_BIN, ...args], {
    env,
    timeoutMs: 180_000,
  });
  return { ...r, rssKb: Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) };
}

/** `filer: PATH: name too long [ENAMETOOLONG]` lines: their paths, sorted (anything else fails). */
function nameTooLong(stderr: string): string[] {
  const lines = stderr.split('\n').filter((l) => l !== '');
  for (const l of lines) expect(l).toMatch(/^filer: .+: name too long \[ENAMETOOLONG\]$/);
  return lines.map((l) => l.slice('filer: '.length, -': name too long [ENAMETOOLONG]'.length)).sort();
}

const figures: string[] = [];
afterAll(() => {
  if (figures.length) console.log(`huge trees, peak RSS:\n  ${figures.join('\n  ')}`);
});

describe.each([
  ['native addon', {}],
  ['FILER_NATIVE_SCAN=0', { FILER_NATIVE_SCAN: '0' }],
])('200,000 entries and 1,500 levels (%s)', (mode, env) => {
  // With the addon off everywhere (FILER_FS_SCAN_ADDON=off) the first mode would be the second again.
  const modeIt = it.skipIf(mode === 'native addon' && nativeAddonOff);
  modeIt('find lists every file shorter than PATH_MAX, reports the directory too long to enter, exit 1, bounded memory', async () => {
    const r = await filer(['find', root, '--hidden', '--no-ignore', '-0'], env);
    expect(r.signal).toBeNull();
    expect(nameTooLong(r.stderr)).toEqual(tooLong(root));
    expect(tooLong(root)).toHaveLength(1);
    expect(r.code).toBe(1);
    const found = splitRecords(r.stdoutBytes).sort();
    const expected = reachable(root);
    expect(found.length).toBe(expected.length);
    expect(found).toEqual(expected);
    expect(found.length).toBeGreaterThan(WIDE + 300);
    figures.push(`find (${mode}): ${Math.round(r.rssKb / 1024)} MB`);
    expect(r.rssKb).toBeLessThan(RSS_LIMIT_KB);
  });

  modeIt('dupes groups what it reaches, reports the directory too long to enter, exit 1, bounded memory', async () => {
    const r = await filer(['dupes', root, '--hidden', '--no-ignore', '--no-cache', '--format', 'json'], env);
    expect(r.signal).toBeNull();
    expect(nameTooLong(r.stderr)).toEqual(tooLong(root));
    expect(r.code).toBe(1);
    const { groups, summary } = JSON.parse(r.stdout) as { groups: { paths: string[] }[]; summary: { files: number } };
    const expected = reachable(root);
    expect(summary.files).toBe(expected.length);
    // Every f.txt of the chain holds "x"; every 1,000th file of wide/ holds "duplicate"; the rest are empty.
    expect(groups.map((g) => g.paths.length).sort((a, b) => a - b)).toEqual(
      [WIDE / 1000, expected.filter((p) => p.endsWith('/f.txt')).length].sort((a, b) => a - b),
    );
    expect(groups.flatMap((g) => g.paths).sort()).toEqual(expected.filter((p) => p.endsWith('/f.txt') || /\/f\d{3}000$/.test(p)));
    figures.push(`dupes (${mode}): ${Math.round(r.rssKb / 1024)} MB`);
    expect(r.rssKb).toBeLessThan(RSS_LIMIT_KB);
  });

  modeIt('copy of the deep chain copies what it reaches and can name, reports the rest, exit 1, bounded memory', async () => {
    const deep = join(
      root,
      readdirSync(root).find((n) => n.startsWith('p'))!,
    );
    const dest = join(tmp, `copy-${mode.replace(/\W+/g, '-')}`);
    // Targets are longer than their sources by the difference of the two prefixes: those past
    // PATH_MAX cannot be created; `skip` leaves them out of the plan and copies the rest.
    const r = await filer(['copy', deep, '--dest', dest, '--hidden', '--no-ignore', '--on-conflict', 'skip', '--apply'], env);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith(`filer: job `));
    // The walk's: the directory too long to enter.
    expect(nameTooLong(lines.filter((l) => l.endsWith('[ENAMETOOLONG]')).join('\n'))).toEqual(tooLong(deep));
    // The apply's: a target that fits, but whose hidden temporary name beside it does not.
    const failed = lines.filter((l) => !l.endsWith('[ENAMETOOLONG]'));
    for (const l of failed) expect(l).toMatch(/^filer: .+ → .+: ENAMETOOLONG: /);
    const copied = reachable(dest).map((p) => p.slice(dest.length));
    const nameable = reachable(deep)
      .map((p) => p.slice(deep.length))
      .filter((rel) => Buffer.byteLength(dest + rel) <= PATH_MAX - 1);
    expect(copied.length + failed.length).toBe(nameable.length);
    expect(copied).toEqual(nameable.slice(0, copied.length));
    expect(copied.length).toBeGreaterThan(300);
    expect(r.stderr).toContain(`${copied.length} done, 0 undone, ${failed.length} failed`);
    figures.push(`copy of the chain (${mode}): ${Math.round(r.rssKb / 1024)} MB`);
    expect(r.rssKb).toBeLessThan(RSS_LIMIT_KB);
  });

  modeIt(
    'a file whose path crosses PATH_MAX in a directory that can still be listed is reported, not listed, by dupes and find --format ndjson',
    async () => {
      const expectedErrors = tooLong(edge);
      // The level 4,093 bytes long: its f.txt (4,099 bytes) and the next level (4,104).
      expect(expectedErrors).toHaveLength(2);
      const dupes = await filer(['dupes', edge, '--hidden', '--no-ignore', '--no-cache', '--format', 'json'], env);
      expect(nameTooLong(dupes.stderr)).toEqual(expectedErrors);
      expect(dupes.code).toBe(1);
      expect((JSON.parse(dupes.stdout) as { summary: { files: number } }).summary.files).toBe(reachable(edge).length);
      const find = await filer(['find', edge, '--hidden', '--no-ignore', '--format', 'ndjson'], env);
      expect(nameTooLong(find.stderr)).toEqual(expectedErrors);
      expect(find.code).toBe(1);
      const listed = find.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { path: string }).path)
        .sort();
      expect(listed).toEqual(reachable(edge));
    },
  );
});
