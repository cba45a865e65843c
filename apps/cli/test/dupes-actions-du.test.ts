import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jobIdOf, newCase, type Case } from './dupes-actions-tree.js';

/**
 * What `filer dupes --action … --apply` frees on the disk, measured as `du` measures it: files of
 * real (non-sparse, random) content of known sizes, allocated blocks summed over unique inodes and
 * checked against `du -sB1` at every step. The copies' inodes stay in the job's quarantine until
 * `jobs purge`, so the space comes back then — by exactly the blocks of the copies the plan
 * reported freed — and `jobs undo` before that gives back the tree and its usage.
 */

let c: Case;
afterEach(() => c?.cleanup());

// Sizes straddling block boundaries: one byte, one byte past 64 KiB, exactly 3 blocks, odd sizes.
const SIZES = [1, 5000, 12_288, 65_537, 100_000];

/** t/a-orig/fN (kept), and copies t/copy1/fN (all sizes) and t/copy2/sub/fN (the two largest). */
function tree(): { root: string; copies: string[] } {
  c = newCase();
  const root = c.p('t');
  const copies: string[] = [];
  SIZES.forEach((size, i) => {
    const data = randomBytes(size);
    const put = (rel: string): string => {
      const p = path.join(root, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, data);
      return p;
    };
    put(`a-orig/f${i}`); // first in path order: the kept file
    copies.push(put(`copy1/f${i}`));
    if (size > 60_000) copies.push(put(`copy2/sub/f${i}`));
  });
  put1Unique(root);
  return { root, copies };
}

function put1Unique(root: string): void {
  fs.writeFileSync(path.join(root, 'unique'), randomBytes(30_000));
}

interface Usage {
  /** Allocated bytes (st_blocks × 512) of regular files, each inode once. */
  files: number;
  /** Files and directories, each inode once: what du -sB1 counts. */
  total: number;
  /** Path (outside the quarantine) → sha256 of its content. */
  content: Record<string, string>;
}

function usage(root: string): Usage {
  const seen = new Set<bigint>();
  const u: Usage = { files: 0, total: 0, content: {} };
  const walk = (p: string, inQuarantine: boolean): void => {
    const st = fs.lstatSync(p, { bigint: true });
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      const bytes = Number(st.blocks) * 512;
      u.total += bytes;
      if (st.isFile()) u.files += bytes;
    }
    if (st.isFile() && !inQuarantine) u.content[path.relative(root, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n), inQuarantine || n === '.filer-quarantine');
  };
  walk(root, false);
  const du = Number(execFileSync('du', ['-sB1', root], { encoding: 'utf8' }).split('\t')[0]);
  expect(u.total).toBe(du); // the walk counts exactly what du counts
  return u;
}

/** Allocated bytes of each copy before the run, and the bytes the plan says freeing them gives. */
function allocated(paths: readonly string[]): number {
  return paths.reduce((s, p) => s + Number(fs.statSync(p, { bigint: true }).blocks) * 512, 0);
}

async function applyNdjson(action: string, root: string): Promise<{ id: string; freed: number; copies: string[] }> {
  const r = await c.filer(['dupes', root, '--action', action, '--apply', '--format', 'ndjson', '--no-cache']);
  expect(r.code).toBe(0);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { copies?: { copy: string; freed: number }[]; summary?: { bytes: number } });
  const copies = lines.flatMap((l) => l.copies ?? []);
  const freed = lines.at(-1)!.summary!.bytes;
  expect(copies.reduce((s, x) => s + x.freed, 0)).toBe(freed);
  return { id: jobIdOf(r.stderr), freed, copies: copies.map((x) => x.copy).sort() };
}

/** Each copy's allocation is its size rounded up to whole 4 KiB blocks: the plan's bytes, in blocks. */
const inBlocks = (sizes: readonly number[]): number => sizes.reduce((s, n) => s + Math.ceil(n / 4096) * 4096, 0);
const copySizes = (copies: readonly string[]): number[] => copies.map((p) => fs.statSync(p).size);

describe('dupes --action --apply: du shrinks by the bytes the plan reported', () => {
  it('hardlink: usage unchanged while quarantined, back after undo, down by the copies’ blocks after purge; contents unchanged', async () => {
    const { root, copies } = tree();
    const before = usage(root);
    const sizes = copySizes(copies);
    const copyBlocks = allocated(copies);
    expect(copyBlocks).toBe(inBlocks(sizes)); // real content: every block allocated, none sparse

    const first = await applyNdjson('hardlink', root);
    expect(first.copies).toEqual([...copies].sort());
    expect(first.freed).toBe(sizes.reduce((s, n) => s + n, 0));
    const applied = usage(root);
    expect(applied.content).toEqual(before.content);
    expect(applied.files).toBe(before.files); // the copies' inodes sit in the quarantine
    expect(applied.total).toBeGreaterThanOrEqual(before.total);

    expect((await c.filer(['jobs', 'undo', first.id])).code).toBe(0);
    const undone = usage(root);
    expect(undone.content).toEqual(before.content);
    expect(undone.files).toBe(before.files);
    expect(undone.total).toBe(before.total); // du is back, to the block: undo also removes the emptied quarantine
    expect(fs.existsSync(path.join(root, '.filer-quarantine'))).toBe(false);

    const second = await applyNdjson('hardlink', root);
    expect(second.freed).toBe(first.freed);
    expect((await c.filer(['jobs', 'purge', second.id])).code).toBe(0);
    const purged = usage(root);
    expect(purged.content).toEqual(before.content);
    expect(before.files - purged.files).toBe(copyBlocks);
    expect(before.total - purged.total).toBe(copyBlocks); // du -sB1 ROOT itself, quarantine included
    expect(before.files - purged.files).toBe(inBlocks(sizes)); // = the reported bytes, rounded up to blocks per copy
  });

  it('remove: nothing is freed until jobs purge; then exactly the copies’ blocks', async () => {
    const { root, copies } = tree();
    const before = usage(root);
    const copyBlocks = allocated(copies);
    const run = await applyNdjson('remove', root);
    const applied = usage(root);
    expect(applied.files).toBe(before.files);
    expect(Object.keys(applied.content).filter((p) => p.startsWith('copy'))).toEqual([]);
    expect((await c.filer(['jobs', 'purge', run.id])).code).toBe(0);
    const purged = usage(root);
    expect(before.files - purged.files).toBe(copyBlocks);
    expect(before.total - purged.total).toBe(copyBlocks);
    expect(copyBlocks).toBe(inBlocks(SIZES) + inBlocks(SIZES.filter((n) => n > 60_000)));
    expect(run.freed).toBe(SIZES.reduce((s, n) => s + n, 0) + SIZES.filter((n) => n > 60_000).reduce((s, n) => s + n, 0));
  });
});
