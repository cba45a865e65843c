import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler } from '@filer/testing';

/**
 * Battery item 4, the conflict matrix: each plan below holds a conflict; with --apply the plan
 * names its kind (ndjson `{"action":"conflict","kind":…}`), exits 3, and changes nothing — the
 * names, the bytes, and every inode's mtime and ctime (a rename, a link or a chmod would change a
 * ctime). A case-only collision needs a case-insensitive destination, which this machine has
 * not: the planner's handling of one is proven in libs/engine/src/batch/plan-moves.spec.ts, the
 * probe that finds one in libs/storage/test/case-probe.test.ts.
 */

let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-battery-04-'));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** Every entry below `dir` with its type, bytes, inode, mtime and ctime in nanoseconds. */
function inodes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (p: string): void => {
    const st = fs.lstatSync(p, { bigint: true });
    const what = st.isFile() ? fs.readFileSync(p).toString('hex') : st.isDirectory() ? 'dir' : 'other';
    out[path.relative(base, p) || '.'] = `${what} #${st.ino} m${st.mtimeNs} c${st.ctimeNs}`;
  };
  add(dir);
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) add(path.join(dir, rel));
  return out;
}

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(base, 'case-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

async function refused(args: string[], dir: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const before = inodes(dir);
  const r = await runFiler([...args, '--apply', '--format', 'ndjson'], { env, timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(/^filer: \d+ conflicts: nothing was changed/);
  expect(inodes(dir)).toEqual(before);
  expect((await runFiler(['jobs', 'list'], { env })).stdout).toBe('');
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { action: string; kind?: string })
    .filter((l) => l.action === 'conflict')
    .map((l) => l.kind!)
    .sort();
}

const env = (): NodeJS.ProcessEnv => ({ XDG_CACHE_HOME: fs.mkdtempSync(path.join(base, 'cache-')) });

describe('battery 4: every conflict named, exit 3, nothing touched (names, bytes, mtimes, ctimes)', () => {
  it('a target that exists', async () => {
    const d = tree({ 'a.txt': 'a', 'k_a.txt': 'other' });
    expect(await refused(['rename', d, '--to', 'k_{name}', '--name', 'a.txt'], d, env())).toEqual(['target-exists']);
  });

  it('two sources to one target', async () => {
    const d = tree({ 'x/a.txt': 'a', 'y/a.txt': 'b' });
    expect(await refused(['copy', d, '--dest', path.join(base, 'flat-dest'), '--flatten'], d, env())).toEqual(['same-target']);
    expect(fs.existsSync(path.join(base, 'flat-dest'))).toBe(false);
  });

  it('a swap ab ↔ ba and a 3-cycle abc → bca → cab → abc: refused, never done through hidden names', async () => {
    const swap = tree({ ab: 'AB', ba: 'BA' });
    expect(await refused(['rename', swap, '--replace', '^(.)(.)$', '--with', '$2$1'], swap, env())).toEqual(['cycle', 'cycle']);
    const cycle = tree({ abc: 'ABC', bca: 'BCA', cab: 'CAB' });
    expect(await refused(['rename', cycle, '--replace', '^(.)(.)(.)$', '--with', '$2$3$1'], cycle, env())).toEqual([
      'cycle',
      'cycle',
      'cycle',
    ]);
  });

  it('a name of 256 bytes, and a path over 4,096 bytes', async () => {
    const d = tree({ 'a.txt': 'a' });
    expect(await refused(['rename', d, '--to', `${'n'.repeat(252)}{ext}`], d, env())).toEqual(['name-too-long']);
    const deep = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(240)}`).join('/');
    expect(await refused(['rename', d, '--to', `${deep}/{name}`], d, env())).toEqual(['name-too-long']);
  });

  it("a '/' from a base-name replacement, a '..' from a template, a target outside the root", async () => {
    const d = tree({ 'a.txt': 'a', 'sub/b.txt': 'b' });
    expect(await refused(['rename', d, '--replace', '^a', '--with', 'x/y', '--name', 'a.txt'], d, env())).toEqual(['invalid-name']);
    expect(await refused(['rename', path.join(d, 'sub'), '--to', '../{name}'], d, env())).toEqual(['invalid-name']);
    expect(await refused(['rename', path.join(d, 'sub'), '--to', `${d}/{name}`], d, env())).toEqual(['outside-root']);
  });

  it('a destination inside its source is refused before anything is planned (exit 2)', async () => {
    const d = tree({ 'a.txt': 'a' });
    const before = inodes(d);
    const r = await runFiler(['copy', d, '--dest', path.join(d, 'inside'), '--apply'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lies inside the root');
    expect(inodes(d)).toEqual(before);
  });

  it('a chain a → aa → aaa → aaaa is no conflict: it is ordered so that each target is vacated first', async () => {
    const d = tree({ a: 'one', aa: 'two', aaa: 'three' });
    const r = await runFiler(['rename', d, '--replace', '^(a+)$', '--with', '$1a', '--apply'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(Object.fromEntries(fs.readdirSync(d).map((n) => [n, fs.readFileSync(path.join(d, n), 'utf8')]))).toEqual({
      aa: 'one',
      aaa: 'two',
      aaaa: 'three',
    });
  });
});
