import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, runProcess } from '@filer/testing';

/** The smallest valid JPEG (1×1): exiftool writes EXIF into copies of it. */
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);

/** A 1×1 grayscale uncompressed TIFF: the structure every TIFF-based RAW format shares. */
function tiff(): Buffer {
  const entries: [number, number, number][] = [
    [256, 3, 1],
    [257, 3, 1],
    [258, 3, 8],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0],
    [277, 3, 1],
    [278, 3, 1],
    [279, 4, 1],
  ];
  const dataOffset = 8 + 2 + entries.length * 12 + 4;
  const b = Buffer.alloc(dataOffset + 1);
  b.write('II*\0', 0, 'latin1');
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const o = 10 + i * 12;
    b.writeUInt16LE(tag, o);
    b.writeUInt16LE(type, o + 2);
    b.writeUInt32LE(1, o + 4);
    if (type === 3) b.writeUInt16LE(value, o + 8);
    else b.writeUInt32LE(tag === 273 ? dataOffset : value, o + 8);
  });
  b[dataOffset] = 0x80;
  return b;
}

async function exiftool(args: string[]): Promise<string> {
  const r = await runProcess('exiftool', args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** A real HEIC (HEVC in an ISO-BMFF container), encoded by libheif's heif-enc from the JPEG above. */
async function heic(file: string): Promise<void> {
  const jpg = `${file}.src.jpg`;
  fs.writeFileSync(jpg, JPEG);
  const r = await runProcess('heif-enc', [jpg, '-o', file]);
  fs.rmSync(jpg);
  expect(r.code, `heif-enc (Debian package libheif-examples): ${r.stderr}`).toBe(0);
}

/** A recursive listing with contents, to prove a plan changed nothing. */
function snapshot(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((rel) => {
      const p = path.join(dir, rel);
      return fs.lstatSync(p).isFile() ? `${rel}:${fs.readFileSync(p).toString('base64')}` : rel;
    });
}

let root: string;
const mk = (): string => fs.mkdtempSync(path.join(root, 'case-'));
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-rename-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('capture dates agree with exiftool', () => {
  const FORMATS = ['jpg', 'heic', 'tif', 'dng', 'nef', 'cr2', 'arw', 'pef', 'orf', 'rw2'];

  it('for every format exiftool can write here, whatever the time zone', async () => {
    const dir = mk();
    const expected = new Map<string, string>();
    for (const [i, ext] of FORMATS.entries()) {
      const file = path.join(dir, `p${i}.${ext}`);
      if (ext === 'heic') await heic(file);
      else fs.writeFileSync(file, ext === 'jpg' ? JPEG : tiff());
      const when = `20${10 + i}:0${1 + (i % 9)}:1${i % 10} 1${i % 10}:2${i % 10}:3${i % 10}`;
      // An offset that exifr's own date reviver would apply against the local zone: filer must not.
      await exiftool(['-q', '-overwrite_original', `-DateTimeOriginal=${when}`, '-OffsetTimeOriginal=+09:00', file]);
      expected.set(file, (await exiftool(['-s3', '-d', '%Y%m%d_%H%M%S', '-DateTimeOriginal', file])).trim());
    }
    for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      const r = await runFiler(['rename', dir, '--to', '{date:YYYYMMDD_HHmmss}{ext}', '--format', 'ndjson'], {
        env: { ...process.env, TZ: tz },
      });
      expect(r.code, r.stderr).toBe(0);
      const plan = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { source: string; target: string; dateSource: string });
      expect(plan).toHaveLength(FORMATS.length);
      for (const p of plan) {
        expect(p.dateSource).toBe('DateTimeOriginal');
        expect(path.basename(p.target)).toBe(expected.get(p.source) + path.extname(p.source));
      }
    }
  });

  it('falls back to CreateDate, then to the file mtime, and says which it used', async () => {
    const dir = mk();
    fs.writeFileSync(path.join(dir, 'created.jpg'), JPEG);
    await exiftool(['-q', '-overwrite_original', '-CreateDate=2021:01:02 03:04:05', path.join(dir, 'created.jpg')]);
    fs.writeFileSync(path.join(dir, 'plain.jpg'), JPEG);
    fs.utimesSync(path.join(dir, 'plain.jpg'), new Date(2020, 5, 6, 7, 8, 9), new Date(2020, 5, 6, 7, 8, 9));
    const r = await runFiler(['rename', dir, '--to', '{date:YYYY-MM-DD HH.mm.ss}{ext}', '--format', 'ndjson']);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; target: string; dateSource: string });
    expect(plan.map((p) => [path.basename(p.target), p.dateSource])).toEqual([
      ['2021-01-02 03.04.05.jpg', 'CreateDate'],
      ['2020-06-06 07.08.09.jpg', 'mtime'],
    ]);
  });
});

describe('a rename plan equals exiftool -testname', () => {
  it('on 40 photos with distinct capture dates', async () => {
    const dir = mk();
    const files: string[] = [];
    for (let i = 0; i < 40; i++) {
      const f = path.join(dir, `IMG_${String(i).padStart(4, '0')}.jpg`);
      fs.writeFileSync(f, JPEG);
      files.push(f);
    }
    // One exiftool call per date would be slow: write them all with -@ argument files.
    const args = files.flatMap((f, i) => [
      '-DateTimeOriginal=' +
        `2023:${String(1 + (i % 12)).padStart(2, '0')}:${String(1 + (i % 28)).padStart(2, '0')} 0${i % 10}:${10 + i}:${20 + (i % 30)}`,
      f,
      '-execute',
    ]);
    fs.writeFileSync(path.join(root, 'args.txt'), args.slice(0, -1).join('\n'));
    await exiftool(['-@', path.join(root, 'args.txt'), '-common_args', '-overwrite_original', '-q']);
    const before = snapshot(dir);
    const ex = await exiftool(['-d', '%Y%m%d_%H%M%S.%%e', '-testname<DateTimeOriginal', dir]);
    const want = [...ex.matchAll(/'(.+?)' --> '(.+?)'/g)].map((m) => [m[1], m[2]]).sort();
    expect(want).toHaveLength(40);
    const r = await runFiler(['rename', dir, '--to', '{date:YYYYMMDD_HHmmss}{ext}', '--format', 'ndjson']);
    expect(r.code, r.stderr).toBe(0);
    const got = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; target: string })
      .map((p) => [p.source, p.target])
      .sort();
    expect(got).toEqual(want);
    expect(snapshot(dir)).toEqual(before); // a plan changes nothing
  });
});

describe('content hashes in templates', () => {
  it('{hash:N} is a prefix of the sha256 that sha256sum prints', async () => {
    const dir = mk();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'hello\n');
    fs.writeFileSync(path.join(dir, 'b.bin'), Buffer.alloc(3 << 20, 1));
    const r = await runFiler(['rename', dir, '--to', '{hash:16}{ext}', '--format', 'ndjson']);
    expect(r.code, r.stderr).toBe(0);
    for (const p of r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; target: string })) {
      const sum = (await runProcess('sha256sum', [p.source])).stdout.slice(0, 16);
      expect(path.basename(p.target)).toBe(sum + path.extname(p.source));
    }
  });
});

describe('rename conflicts are found in the plan and nothing changes', () => {
  it('an existing target: exit 3, the conflict named, the tree untouched', async () => {
    const dir = mk();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    fs.writeFileSync(path.join(dir, 'b.txt'), 'b');
    const before = snapshot(dir);
    const r = await runFiler(['rename', dir, '--name', 'a.txt', '--to', 'b.txt']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/CONFLICT target-exists: .*a\.txt → .*b\.txt/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('two files to one name: a conflict, or numbered with --on-conflict suffix', async () => {
    const dir = mk();
    for (const n of ['x1.jpg', 'x2.jpg']) fs.writeFileSync(path.join(dir, n), n);
    const failed = await runFiler(['rename', dir, '--replace', '\\d', '--with', '', '--format', 'ndjson']);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toMatch(/"kind":"same-target"/);
    const suffixed = await runFiler(['rename', dir, '--replace', '\\d', '--with', '', '--on-conflict', 'suffix', '--format', 'ndjson']);
    expect(suffixed.code).toBe(0);
    expect(
      suffixed.stdout
        .trim()
        .split('\n')
        .map((l) => path.basename((JSON.parse(l) as { target: string }).target)),
    ).toEqual(['x.jpg', 'x (1).jpg']);
  });

  it('a swap a↔b is refused clearly', async () => {
    const dir = mk();
    fs.writeFileSync(path.join(dir, 'ab'), 'first');
    fs.writeFileSync(path.join(dir, 'ba'), 'second');
    const before = snapshot(dir);
    const r = await runFiler(['rename', dir, '--replace', '^(.)(.)$', '--with', '$2$1']);
    expect(r.code).toBe(3);
    expect(r.stdout.match(/CONFLICT cycle/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/cycle or swap/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a chain a→b, b→c is ordered so nothing is overwritten', async () => {
    const dir = mk();
    for (const n of ['f1', 'f2']) fs.writeFileSync(path.join(dir, n), n);
    const r = await runFiler(['rename', dir, '--replace', '^f(\\d)$', '--with', 'f$1x', '--format', 'ndjson']);
    expect(r.code, r.stdout).toBe(0);
    const chain = await runFiler(['rename', dir, '--to', 'f{counter}', '--format', 'ndjson', '--name', 'f2']);
    expect(chain.code).toBe(3); // f2 → f1, which exists and is not moving
  });

  it.each([
    [['rename', '.'], /--to: say how to rename/],
    [['rename', '.', '--to', '{nope}'], /--to: unknown field '\{nope\}'/],
    [['rename', '.', '--replace', '(a'], /--replace: .*needs --with|--replace: invalid regex/],
    [['rename', '.', '--to', 'x', '--on-conflict', 'overwrite'], /on-conflict/],
  ])('bad input %j exits 2 with one line', async (args, msg) => {
    const r = await runFiler(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
  });
});
