import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, runFiler, type ProcessResult } from '@filer/testing';

/**
 * `find --format ndjson|json` formats records natively (listRecords) when the addon is built. Its
 * output must be the portable walker's (FILER_FS_SCAN_ADDON=off) byte for byte, and match records
 * built here from readdir + lstat with JSON.stringify and Date#toISOString.
 */

let root: string;
const NAMES = ['data.csv', 'q"uote.txt', 'back\\slash', 'new\nline', 'tab\t', 'ctl\x01\x7f', 'ünï cødé', '日本.md', '😀', '.hid'];
const DIRS = ['d', 'Dir "x"', 'ü\\', '.hdir', 'sp ace'];

beforeAll(() => {
  const rand = mulberry32(7);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-ndjson-cli-'));
  const dirs = [root];
  for (let i = 0; dirs.length < 400; i++) {
    const parent = dirs[Math.floor(rand() * dirs.length)];
    const d = path.join(parent, `${DIRS[i % DIRS.length]}${i}`);
    fs.mkdirSync(d);
    dirs.push(d);
  }
  for (let i = 0; i < 4000; i++) {
    const p = path.join(dirs[Math.floor(rand() * dirs.length)], `${NAMES[i % NAMES.length]}${i}`);
    fs.writeFileSync(p, 'x'.repeat(Math.floor(rand() * 300)));
    // Seconds with a fraction, some before 1970: the millisecond text must truncate as Date does.
    const t = 1_600_000_000 * rand() - 100_000_000 + rand();
    fs.utimesSync(p, t, t);
  }
  fs.symlinkSync('nowhere', path.join(dirs[3], 'dangling'));
  fs.symlinkSync(dirs[5], path.join(dirs[4], 'dirlink'));
  // A name that is not UTF-8: both walks decode it with U+FFFD and then fail to stat it (ENOENT);
  // the native lister declines its directory, which the general walk then lists as always.
  fs.writeFileSync(Buffer.concat([Buffer.from(dirs[6] + '/caf'), Buffer.from([0xe9])]), 'latin1');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every regular file below `dir` as entryToJson prints it, from node:fs alone (names that are UTF-8). */
function oracle(dir: string, hidden: boolean, maxDepth = Infinity, depth = 1): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!hidden && d.name.startsWith('.')) continue;
    const p = path.join(dir, d.name);
    if (d.isDirectory() && depth < maxDepth) out.push(...oracle(p, hidden, maxDepth, depth + 1));
    if (!d.isFile()) continue;
    if (d.name.includes('\ufffd')) continue;
    const st = fs.lstatSync(p);
    out.push(JSON.stringify({ path: p, type: 'file', size: st.size, mtime: new Date(st.mtimeMs).toISOString() }));
  }
  return out;
}

const threaded = { FILER_WALK_SPAWN_AFTER_MS: '0' };
const native = (args: string[]) => runFiler(['find', root, ...args], { env: { ...process.env, ...threaded } });
const portable = (args: string[]) =>
  runFiler(['find', root, ...args], { env: { ...process.env, ...threaded, FILER_FS_SCAN_ADDON: 'off' } });
const sortedLines = (r: ProcessResult): string[] =>
  r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort();

describe('find --format ndjson: native records', () => {
  it.each([[['--hidden', '--no-ignore']], [['--no-ignore']], [['--hidden', '--no-ignore', '--max-depth', '2']]])(
    '%j: the portable walk’s bytes, and the files node:fs lists',
    async (flags) => {
      const [n, p] = await Promise.all([native([...flags, '--format', 'ndjson']), portable([...flags, '--format', 'ndjson'])]);
      expect(n.stderr).toBe(p.stderr);
      expect(n.code).toBe(p.code);
      expect(n.stdoutBytes.length).toBe(p.stdoutBytes.length);
      expect(sortedLines(n)).toEqual(sortedLines(p));
      const maxDepth = flags.includes('--max-depth') ? 2 : Infinity;
      expect(sortedLines(n)).toEqual(oracle(root, flags.includes('--hidden'), maxDepth).sort());
    },
  );

  it('json wraps the same records', async () => {
    const [n, p] = await Promise.all([
      native(['--hidden', '--no-ignore', '--format', 'json']),
      portable(['--hidden', '--no-ignore', '--format', 'json']),
    ]);
    expect(n.stderr).toMatch(/^filer: .*\/caf\ufffd: no such file or directory \[ENOENT\]\n$/);
    expect([n.code, n.stderr]).toEqual([p.code, p.stderr]);
    const records = (r: ProcessResult) => (JSON.parse(r.stdout) as unknown[]).map((o) => JSON.stringify(o)).sort();
    expect(records(n)).toEqual(records(p));
    expect(records(n).length).toBe(4000);
  });
});
