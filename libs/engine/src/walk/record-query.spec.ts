import { describe, expect, it } from 'vitest';
import { compileFilter, KindCode, parseFilterSpec, type FileEntry, type FilterInput } from '@filer/core';
import { DirWalker, type SyncSource } from './walk-dirs.js';
import { recordFormatOf, recordQuery } from './record-query.js';
import type { RecordLister, RecordQuery } from './record-listing.js';
import { emptyWalkStats } from './walk-stats.js';
import { rootTask } from './dir-task.js';

const queryOf = (input: FilterInput, identity = false): RecordQuery | undefined =>
  recordQuery(compileFilter(parseFilterSpec(input, 0)), 'paths', identity);

describe('recordQuery: the filters a source may apply itself', () => {
  it('takes extensions, size and mtime bounds, and the ignore files to look out for', () => {
    expect(
      queryOf({ ext: ['CSV', '.tar.gz'], minSize: '2k', maxSize: 5000, newer: '2020-01-01T00:00:00Z', older: '2030-01-01T00:00:00Z' }),
    ).toEqual({
      format: 'paths',
      extensions: ['csv', 'tar.gz'],
      minSize: 2000,
      maxSize: 5000,
      newerThanMs: Date.parse('2020-01-01T00:00:00Z'),
      olderThanMs: Date.parse('2030-01-01T00:00:00Z'),
      ignoreNames: ['.gitignore', '.ignore', '.filerignore'],
    });
    expect(queryOf({ noIgnore: true })?.ignoreNames).toEqual([]);
    expect(queryOf({ hidden: true, maxDepth: 3 })).toBeDefined();
  });

  it.each<[string, FilterInput, boolean?]>([
    ['a name glob', { name: ['*.csv'] }],
    ['a regex', { regex: 'x' }],
    ['an exclude', { exclude: ['skip'] }],
    ['--follow', { follow: true }],
    ['another type', { type: 'd' }],
    ['a non-ASCII extension (Unicode case folding)', { ext: 'ü' }],
    ['an extension holding NUL (the native join character)', { ext: 'a\0b' }],
    ['an identity walk', {}, true],
  ])('leaves %s to the walk', (_label, input, identity) => {
    expect(queryOf(input, identity)).toBeUndefined();
  });

  it('names the lister’s format for each find format', () => {
    expect([
      recordFormatOf('paths', false),
      recordFormatOf('paths', true),
      recordFormatOf('json', false),
      recordFormatOf('csv', false),
    ]).toEqual(['paths', 'paths0', 'ndjson', 'csv']);
  });
});

/** A one-directory source whose lister records the queries it is asked with. */
function sourceWith(names: string[], lister: RecordLister): { source: SyncSource; lister: RecordLister } {
  const source: SyncSource = {
    listDir: () => ({ names, kinds: new Uint8Array(names.length).fill(KindCode.File) }),
    statMany: (_dir, ns) => ns.map(() => ({ kind: 'file' as const, size: 1, mtimeMs: 0, dev: 0, ino: 0 })),
    readText: () => undefined,
    join: (d, n) => `${d}/${n}`,
  };
  return { source, lister };
}

describe('DirWalker with a record lister', () => {
  const walk = (input: FilterInput, format: 'paths' | 'csv', listerAnswers: 'records' | 'null') => {
    const queries: (RecordQuery | undefined)[] = [];
    const { source, lister } = sourceWith(['a.csv', 'b.txt'], (_dir, _hidden, _wantDirs, query) => {
      queries.push(query);
      return listerAnswers === 'null' ? null : { records: 'r/a.csv\n', count: 1, bytes: 0, entries: 2, subdirs: [], failures: [] };
    });
    const entries: FileEntry[] = [];
    let text = '';
    const stats = emptyWalkStats();
    const walker = new DirWalker(
      source,
      { filter: compileFilter(parseFilterSpec(input, 0)), statAll: false, ndjson: lister, records: { format, nul: false } },
      { entry: (e) => entries.push(e), error: () => {}, records: (t) => (text += t) },
      stats,
    );
    walker.run([rootTask('r')]);
    return { queries, entries, text, stats };
  };

  it('asks the lister with the query and takes its records and counts', () => {
    const r = walk({ ext: 'csv' }, 'csv', 'records');
    expect(r.queries).toEqual([expect.objectContaining({ format: 'csv', extensions: ['csv'] })]);
    expect([r.text, r.entries, r.stats.matched, r.stats.entries]).toEqual(['r/a.csv\n', [], 1, 2]);
  });

  it('walks the directory itself when the lister declines it', () => {
    const r = walk({ ext: 'csv' }, 'paths', 'null');
    expect(r.queries.length).toBe(1);
    expect(r.entries).toEqual([{ path: 'r/a.csv', kind: 'file' }]);
  });

  it('never asks the lister when a filter is one only the walk can test', () => {
    const r = walk({ name: ['a*'] }, 'paths', 'records');
    expect(r.queries).toEqual([]);
    expect(r.entries.map((e) => e.path)).toEqual(['r/a.csv']);
  });
});
