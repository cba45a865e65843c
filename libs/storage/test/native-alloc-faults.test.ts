import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, makeTree, nativeAddonOff, type TempTree } from '@filer/testing';

/**
 * The addon under the allocation faults real allocators produce (issue 15, defect 7: `find` lost a
 * directory of 9,800 files to a spurious ENOMEM). glibc's malloc may succeed and still leave errno
 * set — when sbrk or a huge-page mmap fails it falls back to mmap — so errno read after a loop that
 * allocates says nothing about the loop's last call; and an allocation that fails must be reported,
 * not written through.
 */
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const BIG = 10_000;
// Long names: the listing's joined names grow past 2 MiB, through the sizes where glibc mmaps.
const bigName = (i: number): string => `${String(i).padStart(5, '0')}_${'n'.repeat(200)}.csv`;

let t: TempTree;
let shimDir: string | undefined;
let shim: string;
beforeAll(() => {
  const spec: Parameters<typeof makeTree>[0] = {
    // Same size, same head and tail, different middle: samples collide, whole hashes differ.
    'dupes/a1.bin': file(Buffer.alloc(20_000, 'a')),
    'dupes/a2.bin': file(Buffer.alloc(20_000, 'a')),
    'dupes/a3.bin': file(Buffer.concat([Buffer.alloc(10_000, 'a'), Buffer.from('x'), Buffer.alloc(9_999, 'a')])),
    'dupes/b1.txt': file('small and equal'),
    'dupes/b2.txt': file('small and equal'),
    'dupes/c.txt': file('unique'),
  };
  for (let i = 0; i < BIG; i++) spec[`big/${bigName(i)}`] = file('');
  t = makeTree(spec);
  shimDir = mkdtempSync(join(tmpdir(), 'filer-alloc-faults-'));
  shim = join(shimDir, 'alloc-faults.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, `${FIXTURES}alloc-faults.c`, '-ldl']);
}, 120_000);
afterAll(() => {
  t?.cleanup();
  if (shimDir) rmSync(shimDir, { recursive: true, force: true });
});

/**
 * A child's environment: this process's (under scripts/native-sanitizers.sh, the sanitized build
 * with ASan preloaded) plus `extra`. A child that preloads the fault library cannot also have ASan,
 * which replaces malloc too: it loads the normal build.
 */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (extra.LD_PRELOAD && process.env.LD_PRELOAD?.includes('libasan')) delete env.FILER_FS_SCAN_ADDON;
  return env;
}

interface Exercised {
  /** Each call's result, or {error: code}. */
  calls: Record<string, unknown>;
  /** The cache rows and scan the cached calls took: given to a later run (see addon-exercise.mjs). */
  inputs: unknown;
}
let plainRun: Exercised | undefined;

/** What each addon function returned (or the code it threw) in a child; `inputs`: see addon-exercise.mjs. */
function exercise(extra: Record<string, string>, inputs?: string): Exercised {
  const r = spawnSync(process.execPath, [`${FIXTURES}addon-exercise.mjs`, t.root, ...(inputs ? [inputs] : [])], {
    env: childEnv(extra),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 120_000,
  });
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  const { _inputs, ...calls } = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(_inputs).toBeDefined();
  return { calls, inputs: _inputs };
}

describe.skipIf(nativeAddonOff)('native addon under allocation faults', () => {
  it('lists a directory of 10,000 entries 100 times without error while glibc leaves errno = ENOMEM after its huge-page mmap fails', () => {
    // hugetlb=2: allocations of 2 MiB or more first try MAP_HUGETLB, which fails where no huge pages
    // are reserved, then succeed with a plain mmap; the fixed threshold sends the names buffer there.
    const script = `
      const addon = require('@filer/fs-scan');
      const failures = {};
      for (let i = 0; i < 100; i++) {
        try {
          const [, kinds] = addon.listDir(process.argv[1]);
          if (kinds.length !== ${BIG}) failures['count ' + kinds.length] = (failures['count ' + kinds.length] ?? 0) + 1;
        } catch (e) {
          failures[e.code] = (failures[e.code] ?? 0) + 1;
        }
      }
      console.log(JSON.stringify(failures));`;
    const r = spawnSync(process.execPath, ['-e', script, t.path('big')], {
      cwd: FIXTURES,
      env: childEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=2:glibc.malloc.mmap_threshold=2097152' }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({});
  });

  it('gives every function the same results when each allocation leaves errno = ENOMEM', () => {
    const plain = (plainRun ??= exercise({})).calls;
    expect(plain['listDir big']).toMatchObject({ count: BIG });
    expect(plain['listDir missing']).toEqual({ error: 'ENOENT' });
    expect(plain.scanFiles).toMatchObject({ count: BIG + 6, errors: [] });
    const refused = plain['refused calls'] as string[];
    expect(refused).toHaveLength(18);
    const deduped = (plain.dedupeRange as { answers: { status: string }[] }).answers.map((a) => a.status);
    expect(deduped).toEqual(['one-file', 'not-file', expect.stringMatching(/^(same|unsupported)$/), 'sizes']);
    for (const r of refused) expect(r).toMatch(/^(TypeError|RangeError) |^Error (EBUSY|ENOENT) /);
    expect((plain.scanDupes as { groups: string }).groups.split('\0').filter((p) => p.startsWith('/'))).toHaveLength(4);
    expect(exercise({ LD_PRELOAD: shim, FILER_ALLOC_ERRNO: '1' }).calls).toEqual(plain);
  });

  const scans = ['listDir big', 'hashBatch 0', 'scanFiles', 'scanDupes'];
  const cached = ['scanFiles cached', 'splitDirs and matchEntries', 'groupCached'];
  it.each([
    ['1 MiB', 1 << 20, scans],
    ['64 KiB', 64 << 10, [...scans, ...cached]],
    ['64 bytes', 64, [...scans, ...cached, 'readSamples', 'hashBatch 4096', 'listDir dupes']],
  ])('reports ENOMEM, never crashes or answers wrongly, when its allocations of %s or more fail', (_, from, mustFail) => {
    const plain = (plainRun ??= exercise({}));
    const inputs = join(shimDir!, 'inputs.json');
    writeFileSync(inputs, JSON.stringify(plain.inputs));
    const faulty = exercise({ LD_PRELOAD: shim, FILER_ALLOC_FAIL_FROM: String(from) }, inputs);
    expect(Object.keys(faulty.calls)).toEqual(Object.keys(plain.calls));
    for (const [name, value] of Object.entries(faulty.calls) as [string, { error?: string }][]) {
      if (mustFail.includes(name)) expect(value, name).toEqual({ error: 'ENOMEM' });
      // Any other call may run out of memory too; if it does not, it answers as without faults.
      else if (value?.error !== 'ENOMEM') expect(value, name).toEqual(plain.calls[name]);
    }
  });
});
