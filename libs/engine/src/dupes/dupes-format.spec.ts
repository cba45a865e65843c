import { describe, expect, it } from 'vitest';
import { FilerError } from '@filer/core';
import {
  DUPES_CSV_HEADER,
  DUPES_FORMATS,
  dupeGroupToCsv,
  dupeGroupToJson,
  dupeGroupToText,
  dupesSummaryText,
  groupThousands,
  parseDupesFormat,
} from './dupes-format.js';
import type { DupeGroup, DupeStats } from './dupe-types.js';

const G1: DupeGroup = { size: 1536, hash: 'aa11', paths: ['/d/a.bin', '/d/b.bin', '/e/c.bin'], wasted: 3072 };
const G2: DupeGroup = { size: 7, hash: 'bb22', paths: ['/x/comma,name', '/x/new\nline', '/x/quote"d'], wasted: 14 };

const STATS: DupeStats = {
  files: 12345,
  hardLinks: 2,
  emptySkipped: 3,
  candidates: 1001,
  sampled: 1000,
  fullyHashed: 4,
  cacheHits: 1,
  bytesRead: 1234567,
  groups: 2,
  duplicateFiles: 6,
  wastedBytes: 3086,
  errors: 0,
};

describe('text format', () => {
  it('prints a header with counts and sizes, the paths indented, then a blank line', () => {
    expect(dupeGroupToText(G1)).toBe('3 copies × 1.50 KiB — 3.00 KiB wasted\n  /d/a.bin\n  /d/b.bin\n  /e/c.bin\n\n');
    expect(dupeGroupToText({ size: 3, hash: 'h', paths: ['/a', '/b'], wasted: 3 })).toBe('2 copies × 3 B — 3 B wasted\n  /a\n  /b\n\n');
  });

  it('closes with a summary of counts, grouped with commas', () => {
    expect(dupesSummaryText(STATS, 'xxh128')).toBe(
      '2 groups, 6 duplicate files, 3.01 KiB wasted (3,086 bytes)\n' +
        'scanned 12,345 files (2 extra hard links and 3 empty files skipped); 1,001 shared a size; ' +
        'hashed 1,000 samples and 4 whole files with xxh128; 1 cache hits; read 1,234,567 bytes; 0 errors\n',
    );
  });
});

describe('ndjson / json records', () => {
  it('is one JSON object per group with size, hash, wasted and paths in that order', () => {
    expect(dupeGroupToJson(G1)).toBe('{"size":1536,"hash":"aa11","wasted":3072,"paths":["/d/a.bin","/d/b.bin","/e/c.bin"]}');
  });

  it('escapes awkward names so each record stays on one line and parses back', () => {
    const line = dupeGroupToJson(G2);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ size: 7, hash: 'bb22', wasted: 14, paths: G2.paths });
    // The CLI's json format wraps records like this: it must parse as a whole.
    const doc = `{"groups":[${[G1, G2].map(dupeGroupToJson).join(',')}],"summary":${JSON.stringify(STATS)}}`;
    expect((JSON.parse(doc) as { groups: DupeGroup[] }).groups).toEqual([G1, G2]);
  });
});

describe('csv format', () => {
  it('has a header and one row per path with its 1-based group number', () => {
    expect(DUPES_CSV_HEADER).toBe('group,size,hash,wasted,path\n');
    expect(dupeGroupToCsv(G1, 0)).toBe('1,1536,aa11,3072,/d/a.bin\n1,1536,aa11,3072,/d/b.bin\n1,1536,aa11,3072,/e/c.bin\n');
  });

  it('quotes paths with commas, newlines and quotes (RFC 4180)', () => {
    expect(dupeGroupToCsv(G2, 4)).toBe('5,7,bb22,14,"/x/comma,name"\n' + '5,7,bb22,14,"/x/new\nline"\n' + '5,7,bb22,14,"/x/quote""d"\n');
    expect(dupeGroupToCsv({ size: 1, hash: 'h', paths: ['/cr\rx', '/plain'], wasted: 1 }, 1)).toBe('2,1,h,1,"/cr\rx"\n2,1,h,1,/plain\n');
  });
});

describe('parseDupesFormat', () => {
  it('accepts the four formats', () => {
    expect(DUPES_FORMATS).toEqual(['text', 'ndjson', 'csv', 'json']);
    for (const f of DUPES_FORMATS) expect(parseDupesFormat(f)).toBe(f);
  });

  it('rejects anything else as an invalid argument naming the field', () => {
    for (const bad of ['', 'JSON', 'paths', 'xml']) {
      let thrown: unknown;
      try {
        parseDupesFormat(bad);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(FilerError);
      expect((thrown as FilerError).code).toBe('E_INVALID_ARGUMENT');
      expect((thrown as FilerError).field).toBe('format');
      expect((thrown as FilerError).message).toBe(`invalid format '${bad}': expected one of text, ndjson, csv, json`);
    }
  });
});

describe('groupThousands', () => {
  it('prints integers exactly as toLocaleString("en-US") does', () => {
    const values = [
      0,
      7,
      999,
      1000,
      12_345,
      999_999,
      1_000_000,
      914_052_492,
      2_200_000_008,
      -1234,
      -999,
      Number.MAX_SAFE_INTEGER,
      2 ** 53 + 2,
      1.5,
    ];
    for (let i = 0; i < 200; i++) values.push(Math.floor(Math.random() * 10 ** (i % 16)));
    for (const v of values) expect(groupThousands(v)).toBe(v.toLocaleString('en-US'));
  });
});
