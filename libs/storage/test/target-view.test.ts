import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localTargetView } from '../src/batch/plan-local-moves.js';
import { DirListings } from '../src/local/dir-listings.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-target-view-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const lstatFinds = (p: string): boolean => {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  }
};

/** Names a target view is asked about: present, absent, in another case, links, a directory, odd ones. */
const PROBES = [
  'a.txt',
  'b.txt',
  'A.txt',
  'c.txt',
  'link',
  'dangling',
  'sub',
  'SUB',
  'new.txt',
  '.hidden',
  '..',
  '.',
  'ü.txt',
  'x',
  'b.TXT',
];

function tree(name: string, extra: readonly string[] = []): string {
  const d = path.join(dir, name);
  fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
  for (const f of ['a.txt', 'b.txt', '.hidden', ...extra]) fs.writeFileSync(path.join(d, f), f);
  fs.symlinkSync('a.txt', path.join(d, 'link'));
  fs.symlinkSync('nowhere', path.join(d, 'dangling'));
  return d;
}

describe('the local target view', () => {
  it('says what lstat says for every name, asked many times over (a directory read once)', () => {
    const d = tree('plain');
    const view = localTargetView(false);
    // Every probe three times over: the first lookups go to lstat, the later ones to the listing.
    for (let round = 0; round < 3; round++)
      for (const name of PROBES) expect(view.exists(`${d}/${name}`), `${name}, round ${round}`).toBe(lstatFinds(`${d}/${name}`));
  });

  it('in a directory holding a non-ASCII name, or with a case variant, still says what lstat says', () => {
    const d = tree('unicode', ['ü.txt', 'C.TXT']);
    const view = localTargetView(false);
    for (let round = 0; round < 3; round++)
      for (const name of [...PROBES, 'c.txt', 'C.TXT']) expect(view.exists(`${d}/${name}`)).toBe(lstatFinds(`${d}/${name}`));
  });

  it('finds nothing in a missing directory, and a name below a file is something in the way', () => {
    const d = tree('missing');
    const view = localTargetView(false);
    expect(view.exists(`${d}/nope/a.txt`)).toBe(false);
    expect(view.exists(`${d}/a.txt/x`)).toBe(true);
    expect(view.blocked?.(`${d}/a.txt/x`)).toMatch(/is not a directory/);
  });
});

describe('DirListings', () => {
  it('answers from the listing only what it is sure of: a listed name, or an ASCII name no listed name folds to', () => {
    const d = tree('listing', ['C.TXT']);
    const listings = new DirListings();
    // The first two lookups of a directory are left to lstat.
    expect(listings.has(d, 'a.txt')).toBeUndefined();
    expect(listings.has(d, 'a.txt')).toBeUndefined();
    expect(listings.has(d, 'a.txt')).toBe(true);
    expect(listings.has(d, 'dangling')).toBe(true);
    expect(listings.has(d, 'sub')).toBe(true);
    expect(listings.has(d, 'new.txt')).toBe(false);
    // Differs from a listed name in case only: a case-insensitive file system would find it.
    expect(listings.has(d, 'c.txt')).toBeUndefined();
    expect(listings.has(d, 'A.TXT')).toBeUndefined();
    // Unicode folding and normalisation are the file system's: never answered here.
    expect(listings.has(d, 'ü.txt')).toBeUndefined();
    expect(listings.has(d, '..')).toBeUndefined();
  });

  it('leaves a directory it cannot read to lstat', () => {
    const listings = new DirListings();
    const gone = path.join(dir, 'never-made');
    for (let i = 0; i < 4; i++) expect(listings.has(gone, 'a')).toBeUndefined();
  });

  it('leaves a directory with a non-ASCII name in it to lstat, for every name', () => {
    const d = tree('foreign', ['naïve.txt']);
    const listings = new DirListings();
    for (let i = 0; i < 4; i++) expect(listings.has(d, 'zzz')).toBeUndefined();
  });
});
