import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, runFiler, runProcess } from '@filer/testing';

/**
 * Oracle test: on a generated corpus of a few hundred files (exact copies, same-size decoys that
 * differ only in their last byte, and same-size files with identical first and last 4 KiB but
 * different middles), `filer dupes` must find exactly the groups `jdupes -r` finds, and both must
 * equal the groups of equal contents the generator knows.
 */

interface Corpus {
  root: string;
  /** Absolute path → content. */
  files: Map<string, Buffer>;
}

function generate(): Corpus {
  const rand = mulberry32(0xd0be5);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rand() * 2 ** 32), i);
    for (; i < n; i++) b[i] = int(0, 255);
    return b;
  };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dupes-oracle-'));
  fs.chmodSync(root, 0o755);

  const dirs = [''];
  for (let i = 0; dirs.length < 30; i++) {
    const parent = pick(dirs);
    if (parent.split('/').length >= 4) continue;
    const name = i % 5 === 0 ? `Dir ${i}` : `d${i}`;
    const rel = parent === '' ? name : `${parent}/${name}`;
    fs.mkdirSync(path.join(root, rel));
    dirs.push(rel);
  }

  const files = new Map<string, Buffer>();
  let n = 0;
  const put = (data: Buffer): string => {
    const d = pick(dirs);
    const name = n % 7 === 0 ? `copy ${n}.bin` : `f${n}.dat`;
    n++;
    const p = path.join(root, d, name);
    fs.writeFileSync(p, data);
    files.set(p, data);
    return p;
  };
  /** Sizes on both sides of the whole-sample limit (8 KiB). */
  const size = (): number => (rand() < 0.4 ? int(1, 8192) : rand() < 0.1 ? pick([8192, 8193, 8194, 12_288]) : int(8193, 60_000));
  const lastByteDecoy = (b: Buffer): Buffer => {
    const d = Buffer.from(b);
    d[d.length - 1] ^= 0x01;
    return d;
  };
  const middleVariant = (b: Buffer): Buffer => {
    // Same first and last 4 KiB, something different in between (b is larger than 8 KiB).
    const d = Buffer.from(b);
    const at = int(4096, b.length - 4097);
    d[at] ^= 0x80;
    return d;
  };

  const uniques: Buffer[] = [];
  for (let i = 0; i < 110; i++) {
    const b = bytes(size());
    uniques.push(b);
    put(b);
  }
  // Originals copied: 2 to 4 files with identical content.
  for (let i = 0; i < 40; i++) {
    const b = bytes(size());
    const copies = int(2, 4);
    for (let k = 0; k < copies; k++) put(b);
    // Some get a same-size decoy differing only in the last byte (and some of those are copied too).
    if (rand() < 0.5) {
      const d = lastByteDecoy(b);
      put(d);
      if (rand() < 0.3) put(d);
    }
  }
  // Decoys of unique files: same size, last byte differs.
  for (let i = 0; i < 25; i++) put(lastByteDecoy(pick(uniques)));
  // Families sharing head and tail blocks, differing in the middle; some variants copied.
  for (let i = 0; i < 15; i++) {
    const base = bytes(int(8193, 40_000));
    put(base);
    const variants = int(1, 3);
    let v = base;
    for (let k = 0; k < variants; k++) {
      v = middleVariant(v);
      put(v);
      if (rand() < 0.4) put(v);
    }
    if (rand() < 0.5) put(base);
  }
  return { root, files };
}

const sortGroups = (groups: string[][]): string[][] =>
  groups.map((g) => [...g].sort()).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface JsonReport {
  groups: { size: number; hash: string; wasted: number; paths: string[] }[];
  summary: Record<string, number | string>;
}

describe('filer dupes vs jdupes on a generated corpus', () => {
  let corpus: Corpus;
  let truth: string[][];
  let jdupes: string[][];
  beforeAll(async () => {
    corpus = generate();
    const byContent = new Map<string, string[]>();
    for (const [p, data] of corpus.files) byContent.set(sha(data), [...(byContent.get(sha(data)) ?? []), p]);
    truth = sortGroups([...byContent.values()].filter((g) => g.length > 1));
    const r = await runProcess('jdupes', ['-r', '-q', corpus.root]);
    expect(r.code).toBe(0);
    jdupes = sortGroups(
      r.stdout
        .split('\n\n')
        .map((block) => block.split('\n').filter((l) => l !== ''))
        .filter((g) => g.length > 0),
    );
  });
  afterAll(() => fs.rmSync(corpus.root, { recursive: true, force: true }));

  it('the corpus is what it claims to be, and jdupes agrees with the generator', () => {
    const sizes = [...corpus.files.values()].map((b) => b.length);
    expect(corpus.files.size).toBeGreaterThan(300);
    expect(corpus.files.size).toBeLessThan(450);
    expect(sizes.filter((s) => s <= 8192).length).toBeGreaterThan(50);
    expect(sizes.every((s) => s > 0)).toBe(true);
    expect(truth.length).toBeGreaterThan(40);
    expect(jdupes).toEqual(truth);
  });

  for (const algo of ['xxh128', 'sha256'] as const) {
    it(`finds exactly jdupes' groups (--hash ${algo}), with exact counts`, async () => {
      const r = await runFiler(['dupes', corpus.root, '--format', 'json', '--no-cache', '--hash', algo]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as JsonReport;
      expect(sortGroups(report.groups.map((g) => g.paths))).toEqual(jdupes);

      // Each group: its size, wasted bytes and (for sha256) the real digest of its content.
      for (const g of report.groups) {
        const data = corpus.files.get(g.paths[0])!;
        expect(g.size).toBe(data.length);
        expect(g.wasted).toBe(data.length * (g.paths.length - 1));
        expect(g.paths).toEqual([...g.paths].sort());
        if (algo === 'sha256') expect(g.hash).toBe(sha(data));
        else expect(g.hash).toMatch(/^[0-9a-f]{32}$/);
      }
      for (let i = 1; i < report.groups.length; i++) {
        const [a, b] = [report.groups[i - 1], report.groups[i]];
        expect(a.wasted > b.wasted || (a.wasted === b.wasted && (a.size > b.size || (a.size === b.size && a.paths[0] < b.paths[0])))).toBe(
          true,
        );
      }

      // The pipeline's counts follow from the corpus: which sizes are shared, which samples collide.
      const all = [...corpus.files.entries()];
      const sizeCount = new Map<number, number>();
      for (const [, b] of all) sizeCount.set(b.length, (sizeCount.get(b.length) ?? 0) + 1);
      const candidates = all.filter(([, b]) => sizeCount.get(b.length)! > 1);
      const sampleKey = (b: Buffer): string =>
        `${b.length}:${sha(b.length <= 8192 ? b : Buffer.concat([b.subarray(0, 4096), b.subarray(b.length - 4096)]))}`;
      const sampleCount = new Map<string, number>();
      for (const [, b] of candidates) sampleCount.set(sampleKey(b), (sampleCount.get(sampleKey(b)) ?? 0) + 1);
      const full = candidates.filter(([, b]) => b.length > 8192 && sampleCount.get(sampleKey(b))! > 1);
      // Some files share a sample but not their content (the middle-variant families).
      const fullDecoys = full.filter(([p]) => !truth.some((g) => g.includes(p)));
      expect(fullDecoys.length).toBeGreaterThan(5);

      expect(report.summary).toEqual({
        files: corpus.files.size,
        hardLinks: 0,
        emptySkipped: 0,
        candidates: candidates.length,
        sampled: candidates.length,
        fullyHashed: full.length,
        cacheHits: 0,
        bytesRead: candidates.reduce((s, [, b]) => s + Math.min(b.length, 8192), 0) + full.reduce((s, [, b]) => s + b.length, 0),
        groups: truth.length,
        duplicateFiles: truth.reduce((s, g) => s + g.length, 0),
        wastedBytes: truth.reduce((s, g) => s + corpus.files.get(g[0])!.length * (g.length - 1), 0),
        errors: 0,
        hash: algo,
      });
    });
  }

  it('the portable node:fs walker (FILER_NATIVE_SCAN=0) gives the identical report', async () => {
    const args = ['dupes', corpus.root, '--format', 'json', '--no-cache'];
    const [native, portable] = await Promise.all([runFiler(args), runFiler(args, { env: { FILER_NATIVE_SCAN: '0' } })]);
    expect([native.code, portable.code, portable.stderr]).toEqual([0, 0, '']);
    expect(sortGroups((JSON.parse(portable.stdout) as JsonReport).groups.map((g) => g.paths))).toEqual(jdupes);
    expect(portable.stdout).toBe(native.stdout);
  });

  it('text format lists the same groups', async () => {
    const r = await runFiler(['dupes', corpus.root, '--no-cache']);
    expect(r.code).toBe(0);
    const blocks = r.stdout.split('\n\n');
    const summary = blocks.pop()!;
    expect(summary).toMatch(new RegExp(`^${truth.length} groups, `));
    const groups = blocks.map((b) =>
      b
        .split('\n')
        .slice(1)
        .map((l) => {
          expect(l.startsWith('  ')).toBe(true);
          return l.slice(2);
        }),
    );
    expect(sortGroups(groups)).toEqual(jdupes);
  });
});
