import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryToJson } from '@filer/engine';
import { nativeAddonOff } from '@filer/testing';
import { nativeListRecords, nativeScan, type NativeScan } from '../src/local/native-scan.js';

// listRecords formats records in C: they must be byte for byte what entryToJson makes from an lstat.
describe.skipIf(nativeAddonOff)('native record lister (listRecords), ndjson', () => {
  const scan = nativeScan as NativeScan;
  let root: string;
  /** Names JSON.stringify escapes (quote, backslash, control characters) or leaves as UTF-8. */
  const NAMES = [
    'plain.txt',
    'q"uote',
    'back\\slash',
    'new\nline',
    'tab\there',
    'ctl\x01\x1f\x7f',
    'ünï cødé',
    '日本語',
    '😀.png',
    '-dash',
  ];
  /** mtimes as `touch -d` takes them: nanoseconds that round, before 1970, a leap day. */
  const TIMES = ['@1700000000.999999999', '@-315619199.000000001', '@951782400.0005', '@0'];

  const lstatRecord = (p: string): string => {
    const st = fs.lstatSync(p);
    return entryToJson({ path: p, kind: 'file', size: st.size, mtimeMs: st.mtimeMs }) + '\n';
  };
  const recordsOf = (text: string): string[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l + '\n')
      .sort();

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-ndjson-'));
    const odd = path.join(root, 'dir "ü" \\ x');
    fs.mkdirSync(odd);
    NAMES.forEach((n, i) => {
      const p = path.join(odd, n);
      fs.writeFileSync(p, 'x'.repeat(i * 7));
      execFileSync('touch', ['-m', '-d', TIMES[i % TIMES.length], p]);
    });
    fs.writeFileSync(path.join(odd, '.hidden'), 'h');
    fs.mkdirSync(path.join(odd, 'sub'));
    fs.mkdirSync(path.join(odd, '.hidden-dir'));
    fs.symlinkSync('plain.txt', path.join(odd, 'link'));
    // A name that is not UTF-8: the JS walk prints it with U+FFFD, so the lister must decline.
    fs.mkdirSync(path.join(root, 'latin1'));
    fs.writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'latin1') + '/caf'), Buffer.from([0xe9])]), '');
  });
  // rm -rf: fs.rmSync cannot remove paths past PATH_MAX.
  afterAll(() => execFileSync('rm', ['-rf', root]));

  it('makes entryToJson’s bytes for every regular file, and lists subdirectories', () => {
    const dir = path.join(root, 'dir "ü" \\ x');
    const r = nativeListRecords(scan, dir, true, true)!;
    expect(r).not.toBeNull();
    const want = [...NAMES, '.hidden'].map((n) => lstatRecord(path.join(dir, n)));
    expect(recordsOf(r.records)).toEqual(want.sort());
    expect(r.count).toBe(want.length);
    expect(r.bytes).toBe([...NAMES, '.hidden'].reduce((s, n) => s + fs.lstatSync(path.join(dir, n)).size, 0));
    expect(r.entries).toBe(NAMES.length + 4); // .hidden, sub, .hidden-dir, link
    expect(r.subdirs.sort()).toEqual(['.hidden-dir', 'sub']);
    expect(r.failures).toEqual([]);
  });

  it('skips hidden names unless asked, and subdirectories when not descending', () => {
    const dir = path.join(root, 'dir "ü" \\ x');
    const r = nativeListRecords(scan, dir, false, false)!;
    expect(r.count).toBe(NAMES.length);
    expect(r.records).not.toContain('.hidden');
    expect(r.entries).toBe(NAMES.length + 4);
    expect(r.subdirs).toEqual([]);
  });

  it('a root with a trailing slash is not doubled', () => {
    const r = nativeListRecords(scan, path.join(root, 'dir "ü" \\ x', 'sub') + '/', true, true)!;
    expect(r.count).toBe(0);
    fs.writeFileSync(path.join(root, 'dir "ü" \\ x', 'sub', 'f'), '');
    const again = nativeListRecords(scan, path.join(root, 'dir "ü" \\ x', 'sub') + '/', true, true)!;
    expect(JSON.parse(again.records).path).toBe(path.join(root, 'dir "ü" \\ x', 'sub') + '/f');
  });

  it('declines a directory holding a name that is not UTF-8', () => {
    expect(nativeListRecords(scan, path.join(root, 'latin1'), true, true)).toBeNull();
  });

  it('reports a file whose path reaches PATH_MAX as ENAMETOOLONG, as lstat by name does', () => {
    // Nested 200-byte names to a directory 4,000+ bytes long: its files' paths pass 4,095 bytes.
    let deep = root;
    while (deep.length < 4000) {
      deep = path.join(deep, 'd'.repeat(200));
      fs.mkdirSync(deep);
    }
    const name = 'f'.repeat(4096 - deep.length);
    execFileSync('sh', ['-c', 'cd "$1" && : > "$2" && : > short', 'sh', deep, name]);
    const r = nativeListRecords(scan, deep, true, true)!;
    expect(r.failures).toEqual([
      { name, error: { code: 'ENAMETOOLONG', message: `ENAMETOOLONG: name too long, lstat '${deep}/${name}'` } },
    ]);
    expect(r.count).toBe(deep.length + 6 < 4096 ? 1 : 0);
  });

  it('throws as listDir does for a directory it cannot open', () => {
    expect(() => nativeListRecords(scan, path.join(root, 'missing'), true, true)).toThrow(
      expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining('scandir') }),
    );
  });
});
