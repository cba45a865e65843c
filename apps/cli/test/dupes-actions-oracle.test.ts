import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32, runProcess } from '@filer/testing';
import { jobIdOf, newCase, type Case } from './dupes-actions-tree.js';

/**
 * Oracle: on one generated corpus copied twice, the files `jdupes -r -L` links are exactly the files
 * `filer dupes --action hardlink --keep first-root` links — the same sets of names per inode, and the
 * same file kept (its inode unchanged) in each set. Names are zero-padded so that jdupes's
 * number-aware name order and filer's path order agree.
 */

let c: Case;
afterEach(() => c?.cleanup());

function generate(root: string): void {
  const rand = mulberry32(0x1d0ba);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(0, 255)));
  let n = 0;
  const put = (data: Buffer): void => {
    const rel = `${['r1', 'r2'][int(0, 1)]}/d${String(int(0, 5)).padStart(2, '0')}/f${String(n++).padStart(4, '0')}.bin`;
    fs.mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), data);
  };
  for (let i = 0; i < 60; i++) {
    const b = bytes(int(1, 20_000));
    for (let k = int(1, 4); k > 0; k--) put(b);
    if (rand() < 0.4) {
      const decoy = Buffer.from(b);
      decoy[decoy.length - 1] ^= 1;
      put(decoy);
    }
  }
}

/** Relative paths grouped by inode (groups of two or more), each group sorted, with the name whose inode is unchanged. */
function linkedSets(root: string, before: Map<string, number>): { names: string[]; kept: string[] }[] {
  const byIno = new Map<number, string[]>();
  for (const rel of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (rel.includes('.filer-quarantine')) continue;
    const st = fs.lstatSync(path.join(root, rel));
    if (st.isFile()) byIno.set(st.ino, [...(byIno.get(st.ino) ?? []), rel]);
  }
  return [...byIno.values()]
    .filter((g) => g.length > 1)
    .map((g) => ({ names: g.sort(), kept: g.filter((rel) => fs.lstatSync(path.join(root, rel)).ino === before.get(rel)) }))
    .sort((a, b) => (a.names[0] < b.names[0] ? -1 : 1));
}

const inodes = (root: string): Map<string, number> =>
  new Map(
    fs
      .readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((rel) => fs.lstatSync(path.join(root, rel)).isFile())
      .map((rel) => [rel, fs.lstatSync(path.join(root, rel)).ino]),
  );

describe('filer dupes --action hardlink against jdupes -L', () => {
  it('links exactly the files jdupes links, keeping the same file of each group', async () => {
    c = newCase();
    generate(c.p('corpus'));
    execFileSync('cp', ['-a', c.p('corpus'), c.p('jd')]);
    execFileSync('cp', ['-a', c.p('corpus'), c.p('fl')]);
    const [jdBefore, flBefore] = [inodes(c.p('jd')), inodes(c.p('fl'))];
    const jd = await runProcess('jdupes', ['-r', '-q', '-L', '-O', c.p('jd/r1'), c.p('jd/r2')]);
    expect(jd.code).toBe(0);
    const fl = await c.filer(['dupes', c.p('fl/r1'), c.p('fl/r2'), '--action', 'hardlink', '--keep', 'first-root', '--apply']);
    expect(fl.code).toBe(0);
    jobIdOf(fl.stderr);
    const want = linkedSets(c.p('jd'), jdBefore);
    expect(want.length).toBeGreaterThan(20);
    expect(want.every((g) => g.kept.length === 1)).toBe(true);
    expect(linkedSets(c.p('fl'), flBefore)).toEqual(want);
  });
});
