import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilter, parseFilterSpec, type FilterInput } from '@filer/core';
import { formatRecord, recordFormatOf, recordQuery, type FindFormat, type RecordQuery } from '@filer/engine';
import { nativeAddonOff } from '@filer/testing';
import { nativeListRecords, nativeScan, type NativeScan } from '../src/local/native-scan.js';

// listRecords applies find's extension, size and mtime filters in C: a file must pass exactly when
// compileFilter's predicates pass it, and its record must be formatRecord's bytes.
describe.skipIf(nativeAddonOff)('native record lister with filters (listRecords)', () => {
  const scan = nativeScan as NativeScan;
  let root: string;
  let dir: string;
  /** Name, size, mtime in seconds (sizes and times at the bounds the cases below use). */
  const FILES: [string, number, number][] = [
    ['a.csv', 1999, 1_000_000_000],
    ['b.CSV', 2000, 1_000_000_000.0015],
    ['c.Csv', 2001, 1_000_000_001],
    ['d.csv.bak', 5000, 1_000_000_002],
    ['e.tar.gz', 10, 1_000_000_003],
    ['f.TAR.GZ', 0, 1_000_000_004],
    ['.h.csv', 2500, 1_000_000_005],
    ['.csv', 2200, 1_000_000_006],
    ['csv', 3000, 1_000_000_007],
    ['q"u,o\nte.csv', 2100, 1_000_000_008],
    ['ü.csv', 2050, 1_000_000_009],
    ['x.cs', 2000, 1_000_000_010],
    ['y.csvK', 2000, 1_000_000_011],
  ];

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-records-'));
    dir = path.join(root, 'd,"q"');
    fs.mkdirSync(dir);
    for (const [name, size, t] of FILES) {
      const p = path.join(dir, name);
      fs.writeFileSync(p, Buffer.alloc(size, 'x'));
      fs.utimesSync(p, t, t);
    }
    fs.mkdirSync(path.join(dir, 'sub.csv'));
    fs.symlinkSync('a.csv', path.join(dir, 'link.csv'));
    // Names that are not UTF-8: one a filter keeps (the walk must print it: decline), one it drops.
    for (const [sub, ext] of [
      ['latin-kept', '.csv'],
      ['latin-dropped', '.txt'],
    ]) {
      fs.mkdirSync(path.join(root, sub));
      fs.writeFileSync(Buffer.concat([Buffer.from(path.join(root, sub) + '/caf'), Buffer.from([0xe9]), Buffer.from(ext)]), '');
      fs.writeFileSync(path.join(root, sub, 'ok.csv'), 'ok');
    }
    fs.mkdirSync(path.join(root, 'ignored'));
    fs.writeFileSync(path.join(root, 'ignored', '.gitignore'), '*.txt\n');
    fs.writeFileSync(path.join(root, 'ignored', 'a.csv'), '');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const queryOf = (input: FilterInput, format: FindFormat, nul = false, statAll = true): RecordQuery => {
    const q = recordQuery(compileFilter(parseFilterSpec(input, 0)), recordFormatOf(format, nul, statAll), false);
    if (q === undefined) throw new Error(`no native query for ${JSON.stringify(input)}`);
    return q;
  };

  /**
   * What the general walk prints for the directory: compileFilter's tests on readdir + lstat, formatRecord's
   * text; `statAll` false: ndjson of entries stat'ed only for a bound (a cluster `paths` job's parts).
   */
  function walkRecords(d: string, input: FilterInput, format: FindFormat, nul: boolean, statAll = true): string[] {
    const filter = compileFilter(parseFilterSpec(input, 0));
    const stat = (format !== 'paths' && statAll) || filter.needsStat;
    const out: string[] = [];
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (!e.isFile() || (!filter.spec.hidden && e.name.startsWith('.'))) continue;
      if (filter.matchesName !== undefined && !filter.matchesName(e.name)) continue;
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      if (filter.matchesStat !== undefined && !filter.matchesStat(st.size, st.mtimeMs)) continue;
      out.push(formatRecord({ path: p, kind: 'file', ...(stat ? { size: st.size, mtimeMs: st.mtimeMs } : {}) }, format, nul));
    }
    return out.sort();
  }

  /** Records split after each terminator (a csv path may hold a newline: split on the format's record end). */
  const split = (text: string, format: FindFormat, nul: boolean): string[] => {
    const end = format === 'paths' ? (nul ? '\0' : '\n') : format === 'csv' ? /(?<=Z\n)/ : /(?<=\}\n)/;
    return text
      .split(end)
      .filter((r) => r !== '')
      .map((r) => (typeof end === 'string' ? r + end : r))
      .sort();
  };

  const INPUTS: FilterInput[] = [
    { ext: 'csv' },
    { ext: ['csv', 'tar.gz'], hidden: true },
    { ext: 'CSV', minSize: '2k' },
    { ext: 'csv', maxSize: 2000, hidden: true },
    { minSize: 2000, maxSize: 2001 },
    { minSize: 0 },
    { newer: '2001-09-09T01:46:40Z' },
    { older: '2001-09-09T01:46:40.002Z', hidden: true },
    { ext: 'csv', newer: '2001-09-09T01:46:40.001Z', older: '2001-09-09T01:46:49Z', minSize: '2k' },
    {},
  ];
  /** Format, NUL-ended, every match stat'ed (false: ndjson with size and mtime null unless a bound stats). */
  const FORMATS: [FindFormat, boolean, boolean][] = [
    ['paths', false, true],
    ['paths', true, true],
    ['ndjson', false, true],
    ['ndjson', false, false],
    ['csv', false, true],
  ];

  it.each(
    INPUTS.flatMap((input) => FORMATS.map(([format, nul, statAll]) => [JSON.stringify(input), format, nul, statAll, input] as const)),
  )('%s as %s (nul %s, statAll %s): the records the general walk prints', (_label, format, nul, statAll, input) => {
    const r = nativeListRecords(scan, dir, input.hidden ?? false, true, queryOf(input, format, nul, statAll))!;
    expect(r).not.toBeNull();
    const want = walkRecords(dir, input, format, nul, statAll);
    // Split alike on both sides: a name may hold the paths format's newline.
    expect(split(r.records, format, nul)).toEqual(split(want.join(''), format, nul));
    expect(r.records.length).toBe(want.join('').length);
    expect(r.count).toBe(want.length);
    expect(r.subdirs).toEqual(['sub.csv']);
    expect(r.entries).toBe(FILES.length + 2);
    expect(r.failures).toEqual([]);
  });

  it('keeps the extensions’ ASCII case rule and the size bounds inclusive', () => {
    const r = nativeListRecords(scan, dir, true, false, queryOf({ ext: 'csv', minSize: 2000, maxSize: 2100 }, 'paths', true))!;
    expect(split(r.records, 'paths', true).map((p) => path.basename(p.slice(0, -1)))).toEqual(
      ['b.CSV', 'c.Csv', 'q"u,o\nte.csv', 'ü.csv'].sort(),
    );
    // Sizes are totalled only when the files were stat'ed (a bound to test, or a format that prints them).
    expect(r.bytes).toBe(2000 + 2001 + 2100 + 2050);
    expect(nativeListRecords(scan, dir, true, false, queryOf({ ext: 'csv' }, 'paths'))!.bytes).toBe(0);
    expect(nativeListRecords(scan, dir, true, false, queryOf({ ext: 'csv' }, 'ndjson', false, false))!.bytes).toBe(0);
  });

  it('declines a directory whose kept name is not UTF-8, but not one whose odd name the filter drops', () => {
    const q = queryOf({ ext: 'csv' }, 'paths');
    expect(nativeListRecords(scan, path.join(root, 'latin-kept'), false, true, q)).toBeNull();
    const r = nativeListRecords(scan, path.join(root, 'latin-dropped'), false, true, q)!;
    expect(r.records).toBe(path.join(root, 'latin-dropped', 'ok.csv') + '\n');
  });

  it('declines a directory holding an ignore file the walk would read, even unlisted (hidden)', () => {
    const d = path.join(root, 'ignored');
    expect(nativeListRecords(scan, d, false, true, queryOf({ ext: 'csv' }, 'ndjson'))).toBeNull();
    const r = nativeListRecords(scan, d, false, true, queryOf({ ext: 'csv', noIgnore: true }, 'paths'))!;
    expect(r.records).toBe(path.join(d, 'a.csv') + '\n');
  });
});
