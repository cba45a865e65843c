import { describe, expect, it } from 'vitest';
import { belowDir, isObjectUri, objectQuarantineUri } from './object-quarantine.js';
import { planDedupe, type DedupeOptions } from './plan-dedupe.js';
import type { DedupeCandidate } from './dedupe-types.js';

const ROOTS = ['s3://bk/photos/', 's3://bk/backup'];
const object = (path: string, ino: number): DedupeCandidate => ({
  path,
  root: path.startsWith(ROOTS[0]) ? 0 : 1,
  dev: -1,
  ino,
  size: 5,
  mtimeNs: '1700000000000000000',
  etag: 'e',
  nlink: 1,
  uid: 0,
  gid: 0,
  mode: 0,
});
const opts = (over: Partial<DedupeOptions>): DedupeOptions => ({
  op: 'remove',
  roots: ROOTS,
  keep: [],
  reference: new Set(),
  isolate: false,
  jobId: 'J',
  ...over,
});
const group = {
  size: 5,
  hash: 'h',
  files: [object('s3://bk/photos/a/x.jpg', 1), object('s3://bk/backup/a b/x.jpg', 2), object('s3://bk/backup/y.jpg', 3)],
};

describe('dedupe targets of objects', () => {
  it('remove: the quarantine is at the top of the bucket, the whole key below it (whatever the root prefix)', () => {
    expect(objectQuarantineUri('J', 's3://bk/backup/a b/x.jpg')).toBe('s3://bk/.filer-quarantine/J/backup/a b/x.jpg');
    const plan = planDedupe([group], opts({}));
    expect(plan.groups[0].kept.path).toBe('s3://bk/backup/a b/x.jpg');
    expect(plan.groups[0].copies.map((c) => c.target)).toEqual([
      's3://bk/.filer-quarantine/J/backup/y.jpg',
      's3://bk/.filer-quarantine/J/photos/a/x.jpg',
    ]);
  });

  it('move-to: the key below its root under the prefix, the URI’s // kept (path.posix.join would fold it)', () => {
    expect(belowDir('s3://other/dest/', 'a/x.jpg')).toBe('s3://other/dest/a/x.jpg');
    expect(belowDir('/local/dir', 'a/x.jpg')).toBe('/local/dir/a/x.jpg');
    const plan = planDedupe([group], opts({ op: 'move-to', moveTo: 's3://other/dest' }));
    expect(plan.groups[0].copies.map((c) => c.target)).toEqual(['s3://other/dest/y.jpg', 's3://other/dest/a/x.jpg']);
  });

  it('objects are told from local paths by their scheme', () => {
    expect([isObjectUri('s3://b/k'), isObjectUri('/s3:/x'), isObjectUri('s3:/b')]).toEqual([true, false, false]);
  });
});
