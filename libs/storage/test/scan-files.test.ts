import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilterSpec, type PathError } from '@filer/core';
import type { DupeFile } from '@filer/engine';
import { canScanNatively, scanFilesNatively, startParallelWalk } from '@filer/storage';
import { dir, file, makeTree, nativeAddonOff, symlink, type TempTree } from '@filer/testing';

/**
 * The native tree scan must list exactly what the portable walk lists for the same spec: the same
 * files with the same identity, the same failures. Order is free (several threads scan at once).
 */
let t: TempTree;
beforeAll(() => {
  const old = new Date('2020-01-02T03:04:05.678Z');
  const spec: Parameters<typeof makeTree>[0] = {
    'a.csv': file('a,b\n'),
    'b.txt': file('hello'),
    'empty.csv': file(''),
    '.hidden.csv': file('h'),
    '.hdir/inner.csv': file('inner'),
    'deep/one/two/three/four.csv': file('4'),
    'deep/one/x.CSV': file('x'),
    'old/stale.csv': file('stale', { mtime: old }),
    'big/large.csv': file('', { size: 300_000 }),
    'name with spaces/ü ñ.csv': file('unicode'),
    'ln-file.csv': symlink('a.csv'),
    'ln-dir': symlink('deep'),
    'dangling.csv': symlink('nowhere'),
    emptydir: dir(),
  };
  for (let i = 0; i < 300; i++) spec[`many/d${i % 7}/f${i}.bin`] = file(`content ${i}`);
  t = makeTree(spec);
  execFileSync('mkfifo', [t.path('fifo')]); // neither a file nor a directory: never listed
});
afterAll(() => t?.cleanup());

async function portable(roots: string[], raw: Record<string, unknown>): Promise<{ files: DupeFile[]; errors: PathError[] }> {
  const files: DupeFile[] = [];
  const errors: PathError[] = [];
  const walk = startParallelWalk({
    roots,
    spec: parseFilterSpec(raw),
    statAll: true,
    identity: true,
    output: { kind: 'entries' },
    native: false,
    onEntries: (es) => {
      for (const e of es)
        files.push({ path: e.path, size: e.size!, dev: e.dev!, ino: e.ino!, mtimeSec: e.mtimeSec!, mtimeNsec: e.mtimeNsec! });
    },
    onError: (e) => errors.push(e),
  });
  await walk.done;
  return { files, errors };
}

const byPath = <T extends { path: string }>(xs: T[]): T[] => [...xs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

describe.skipIf(nativeAddonOff)('scanFilesNatively', () => {
  it.each([
    ['no filters', { noIgnore: true }],
    ['hidden files', { noIgnore: true, hidden: true }],
    ['an extension, case-insensitive', { noIgnore: true, ext: 'csv' }],
    ['name globs', { noIgnore: true, name: ['f1*.bin', '*.txt'] }],
    ['a size range', { noIgnore: true, minSize: '2', maxSize: '100k' }],
    ['a time bound', { noIgnore: true, older: '2021-01-01' }],
    ['a depth limit of 2', { noIgnore: true, maxDepth: 2 }],
    ['a depth limit of 1', { noIgnore: true, maxDepth: 1, hidden: true }],
    ['a depth limit of 0', { noIgnore: true, maxDepth: 0 }],
  ])('lists what the portable walk lists: %s', async (_what, raw) => {
    const native = scanFilesNatively([t.root], parseFilterSpec(raw));
    expect(native).toBeDefined();
    const walked = await portable([t.root], raw);
    expect(byPath(native!.files)).toEqual(byPath(walked.files));
    expect(native!.errors).toEqual(walked.errors);
  });

  it('takes several roots (overlapping ones too) and roots given with a trailing slash', async () => {
    const roots = [t.path('deep') + '/', t.path('many'), t.path('many/d3')];
    const native = scanFilesNatively(roots, parseFilterSpec({ noIgnore: true }))!;
    const walked = await portable(roots, { noIgnore: true });
    expect(native.files.length).toBeGreaterThan(300);
    expect(byPath(native.files)).toEqual(byPath(walked.files));
  });

  it('is not used for specs that read ignore files, exclude, follow links or want other kinds', () => {
    expect(canScanNatively(parseFilterSpec({ noIgnore: true }))).toBe(true);
    for (const raw of [{}, { noIgnore: true, exclude: ['many'] }, { noIgnore: true, follow: true }, { noIgnore: true, type: 'd' }]) {
      expect(canScanNatively(parseFilterSpec(raw))).toBe(false);
      expect(scanFilesNatively([t.root], parseFilterSpec(raw))).toBeUndefined();
    }
    expect(scanFilesNatively([t.root], parseFilterSpec({ noIgnore: true }), { scan: null })).toBeUndefined();
  });

  it('reports a directory it cannot list, with the portable walk’s code and message, and goes on', async () => {
    const missing = t.path('no-such-dir');
    const native = scanFilesNatively([missing, t.path('deep')], parseFilterSpec({ noIgnore: true }))!;
    const walked = await portable([missing, t.path('deep')], { noIgnore: true });
    expect(native.errors).toEqual(walked.errors);
    expect(native.errors).toEqual([expect.objectContaining({ path: missing, code: 'ENOENT' })]);
    expect(byPath(native.files)).toEqual(byPath(walked.files));
  });
});
