import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, makeTree, runFiler, runProcess, type TempTree } from '@filer/testing';

describe('filer manifest', () => {
  let t: TempTree;
  beforeAll(() => {
    t = makeTree({
      'a.csv': file('1,2\n', { mtime: new Date('2024-01-02T03:04:05.500Z') }),
      'sub/b "q",x.txt': file('hello'),
      'sub/c.bin': file(Buffer.alloc(3 << 20, 9)),
    });
  });
  afterAll(() => t.cleanup());

  it('lists every file in path order with size, mtime and a sha256 equal to sha256sum', async () => {
    const r = await runFiler(['manifest', t.root, '--out', '-', '--hash', '--format', 'ndjson']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; size: number; mtime: string; sha256: string });
    expect(rows.map((x) => x.path)).toEqual([t.path('a.csv'), t.path('sub/b "q",x.txt'), t.path('sub/c.bin')]);
    expect(rows[0]).toMatchObject({ size: 4, mtime: '2024-01-02T03:04:05.500Z' });
    for (const row of rows) {
      const sum = await runProcess('sha256sum', [row.path]);
      expect(row.sha256).toBe(sum.stdout.split(' ')[0]);
    }
  });

  it('writes csv with RFC 4180 quoting and json that parses', async () => {
    const csv = await runFiler(['manifest', t.root, '--out', '-']);
    expect(csv.stdout.split('\n')[0]).toBe('path,type,size,mtime');
    expect(csv.stdout).toContain(`"${t.path('sub/b ""q"",x.txt')}",file,5,`);
    const json = await runFiler(['manifest', t.root, '--out', '-', '--format', 'json', '--ext', 'csv']);
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(1);
  });

  it('writes a new file and never overwrites an existing one', async () => {
    const out = t.path('../manifest-' + process.pid + '.csv');
    try {
      const first = await runFiler(['manifest', t.root, '--out', out]);
      expect(first.code).toBe(0);
      const written = fs.readFileSync(out, 'utf8');
      expect(written.split('\n')).toHaveLength(5);
      const again = await runFiler(['manifest', t.root, '--out', out, '--hash']);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already exists: filer never overwrites it/);
      expect(fs.readFileSync(out, 'utf8')).toBe(written);
    } finally {
      fs.rmSync(out, { force: true });
    }
  });
});
