import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, makeTree, nativeAddonOff, runFiler, splitRecords, type TempTree, type TreeSpec } from '@filer/testing';

/**
 * Issue 15, defect 7: `filer find` dropped a whole directory of about 10,000 files with
 * `not enough memory [ENOMEM]`, now and then. The native listing read errno after its readdir loop,
 * and glibc's malloc may succeed and leave errno set (here made certain: with `hugetlb=2` a large
 * allocation first tries a huge-page mmap, which fails where none are reserved, then succeeds).
 */
const FILES = 10_000;
let t: TempTree;
beforeAll(() => {
  const spec: TreeSpec = {};
  // Names long enough that the listing's joined names outgrow 2 MiB; every tenth file is 3 kB.
  for (let i = 0; i < FILES; i++)
    spec[`export_3/${String(i).padStart(5, '0')}_${'r'.repeat(120)}.csv`] = file(i % 10 === 0 ? 'x'.repeat(3000) : 'y');
  t = makeTree(spec);
}, 120_000);
afterAll(() => t?.cleanup());

describe('find over a directory of 10,000 entries while malloc leaves errno set', () => {
  const listsEveryFile = async (env: Record<string, string>): Promise<void> => {
    const r = await runFiler(['find', t.root, '--hidden', '--no-ignore', '--ext', 'csv', '--min-size', '2k', '-0'], {
      env: { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=2:glibc.malloc.mmap_threshold=2097152', ...env },
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(splitRecords(r.stdoutBytes)).toHaveLength(FILES / 10);
  };
  it.skipIf(nativeAddonOff)('native listing: lists every file, exit 0', () => listsEveryFile({}));
  it('portable walk: lists every file, exit 0', () => listsEveryFile({ FILER_NATIVE_SCAN: '0' }));

  // The native ndjson lister's records for this directory (about 1.9 MB) grow through realloc past the
  // mmap threshold, and its readdir loop reads errno the same way.
  it.skipIf(nativeAddonOff)('native ndjson records: every file, exit 0', async () => {
    const r = await runFiler(['find', t.root, '--hidden', '--no-ignore', '--format', 'ndjson'], {
      env: { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=2:glibc.malloc.mmap_threshold=2097152' },
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const sizes = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { size: number }).size);
    expect(sizes).toHaveLength(FILES);
    expect(sizes.filter((s) => s === 3000)).toHaveLength(FILES / 10);
  });
});
