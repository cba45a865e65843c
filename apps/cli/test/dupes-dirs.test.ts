import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newCase, snapshot, type Case } from './dupes-actions-tree.js';

/**
 * `filer dupes ROOT… --dirs` as a process on real trees: a subtree copied with `cp -a`, a
 * near-copy (one byte changed), nested equal directories (only the outermost pair), a directory
 * whose files all have copies elsewhere, every format, and the refusal beside --action.
 */

let c: Case;
afterEach(() => c?.cleanup());

const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) % 251));

/** photos/{2020/a.jpg,2020/b.jpg,2021/c.jpg,notes.txt,empty}, its cp -a as backup, a near-copy, a mixed folder. */
function tree(): Case {
  c = newCase();
  const put = (rel: string, data: Buffer): void => {
    fs.mkdirSync(path.dirname(c.p(rel)), { recursive: true });
    fs.writeFileSync(c.p(rel), data);
  };
  put('t/photos/2020/a.jpg', bytes(9000, 1));
  put('t/photos/2020/b.jpg', bytes(12000, 2));
  put('t/photos/2021/c.jpg', bytes(7000, 3));
  put('t/photos/notes.txt', bytes(300, 4));
  put('t/photos/empty', Buffer.alloc(0));
  fs.mkdirSync(c.p('t/photos/no-files/deeper'), { recursive: true });
  execFileSync('cp', ['-a', c.p('t/photos'), c.p('t/backup')]);
  execFileSync('cp', ['-a', c.p('t/photos'), c.p('t/near')]);
  const near = fs.readFileSync(c.p('t/near/2020/b.jpg'));
  near[6000] ^= 1;
  fs.writeFileSync(c.p('t/near/2020/b.jpg'), near);
  // Every file has a copy elsewhere, but it holds no other directory's whole content.
  put('t/mixed/x.jpg', bytes(9000, 1));
  put('t/mixed/y.txt', bytes(300, 4));
  return c;
}

interface Line {
  kind: string;
  bytes: number;
  files: number;
  dirs?: string[];
  dir?: string;
}

describe('filer dupes --dirs', () => {
  it('reports the cp -a copy as equal (outermost only), not the near-copy, and the mixed folder as all duplicated', async () => {
    tree();
    const before = snapshot(c.dir);
    const r = await c.filer(['dupes', c.p('t'), '--dirs', '--format', 'ndjson']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const equal = lines.filter((l) => l.kind === 'equal');
    // photos ≡ backup; their 2020/ and 2021/ pairs are inside it and not listed again. near/2021
    // (untouched by the change) equals photos/2021 and backup/2021: a set of three, since near
    // itself is no copy of photos.
    expect(equal).toEqual([
      { kind: 'equal', bytes: 28300, files: 5, dirs: [c.p('t/backup'), c.p('t/photos')] },
      { kind: 'equal', bytes: 7000, files: 1, dirs: [c.p('t/backup/2021'), c.p('t/near/2021'), c.p('t/photos/2021')] },
    ]);
    const duplicated = lines.filter((l) => l.kind === 'duplicated');
    expect(duplicated).toEqual([{ kind: 'duplicated', bytes: 9300, files: 2, dir: c.p('t/mixed') }]);
    expect(lines.map((l) => l.dir ?? l.dirs).flat()).not.toContain(c.p('t/near'));
    expect(snapshot(c.dir)).toEqual(before);
    // A root inside another changes nothing: it is one of the outer root's directories.
    const overlapping = await c.filer(['dupes', c.p('t'), c.p('t/photos'), '--dirs', '--format', 'ndjson']);
    expect(overlapping.stdout).toBe(r.stdout);
  });

  it('text, json and csv carry the same report; a relative root gives relative paths', async () => {
    tree();
    const text = await c.filer(['dupes', c.p('t'), '--dirs']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`2 equal directories × 27.6 KiB (5 files)\n  ${c.p('t/backup')}\n  ${c.p('t/photos')}\n`);
    expect(text.stdout).toContain(`every file duplicated elsewhere:\n  9.08 KiB (2 files)  ${c.p('t/mixed')}\n`);
    expect(text.stdout).toMatch(/2 sets of equal directories, 1 directories with every file duplicated elsewhere\n$/);
    const json = JSON.parse((await c.filer(['dupes', c.p('t'), '--dirs', '--format', 'json'])).stdout) as {
      equal: Line[];
      duplicated: Line[];
    };
    expect(json.equal.map((g) => g.dirs)).toEqual([
      [c.p('t/backup'), c.p('t/photos')],
      [c.p('t/backup/2021'), c.p('t/near/2021'), c.p('t/photos/2021')],
    ]);
    expect(json.duplicated.map((d) => d.dir)).toEqual([c.p('t/mixed')]);
    const csv = await c.filer(['dupes', c.p('t'), '--dirs', '--format', 'csv']);
    expect(csv.stdout.split('\n').slice(0, 3)).toEqual([
      'kind,set,bytes,files,dir',
      `equal,1,28300,5,${c.p('t/backup')}`,
      `equal,1,28300,5,${c.p('t/photos')}`,
    ]);
    const { runFiler } = await import('@filer/testing');
    const rel = await runFiler(['--no-progress', 'dupes', 't/', '--dirs', '--format', 'ndjson'], { env: c.env, cwd: c.dir });
    expect(rel.stdout.split('\n')[0]).toBe('{"kind":"equal","bytes":28300,"files":5,"dirs":["t/backup","t/photos"]}');
  });

  it('an extra unique file breaks equality, also two levels down', async () => {
    tree();
    fs.writeFileSync(c.p('t/backup/2020/only-here'), 'nowhere else');
    const r = await c.filer(['dupes', c.p('t'), '--dirs', '--format', 'json']);
    const json = JSON.parse(r.stdout) as { equal: Line[]; duplicated: Line[] };
    expect(json.equal.flatMap((g) => g.dirs)).not.toContain(c.p('t/backup'));
    // photos is still wholly inside backup.
    expect(json.duplicated.map((d) => d.dir)).toContain(c.p('t/photos'));
    expect(json.duplicated.map((d) => d.dir)).not.toContain(c.p('t/backup'));
  });

  it('above the spill bound (FILER_DUPES_SPILL_AFTER) the on-disk grouping prints every format byte for byte as in memory', async () => {
    tree();
    fs.writeFileSync(c.p('t/backup/2020/only-here'), 'nowhere else');
    for (const format of ['text', 'ndjson', 'json', 'csv']) {
      const args = ['dupes', c.p('t'), c.p('t/photos'), '--dirs', '--format', format];
      const inMemory = await c.filer(args);
      // 13 grouped files here: above 4 they are rows of a scratch file.
      const onDisk = await c.filer(args, { FILER_DUPES_SPILL_AFTER: '4' });
      expect(onDisk.code).toBe(0);
      expect(onDisk.stdout).toBe(inMemory.stdout);
      expect(onDisk.stdout).toContain(c.p('t/photos'));
    }
    // The scratch file is gone.
    expect(fs.readdirSync(path.join(c.dir, '.state', 'filer', 'spill')).filter((f) => f.startsWith('dirs-'))).toEqual([]);
  });

  it('refuses --dirs with --action, naming both flags, before anything runs', async () => {
    tree();
    const r = await c.filer(['dupes', c.p('t'), '--dirs', '--action', 'hardlink', '--apply']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--dirs and --action cannot be combined/);
    // Exit 2 is the CLI's E_INVALID_ARGUMENT (the top-level error line carries no code).
    expect(r.stderr).toMatch(/^filer: dirs: /);
    expect(fs.statSync(c.p('t/backup/2020/a.jpg')).nlink).toBe(1);
  });
});
