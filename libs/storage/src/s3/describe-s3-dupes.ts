import { eachAtOnce, OBJECT_DEV, type DedupeCandidate, type DedupeGroupInput, type DupeGroup } from '@filer/engine';
import { rootIndexOf } from '../local/describe-dupes.js';
import { objectIdentity } from './s3-file-ops.js';
import type { S3Objects } from './s3-objects.js';
import { parseS3Uri } from './s3-uri.js';

/**
 * Each group's objects with what the dedupe planner needs, from a HEAD of each: size,
 * LastModified, ETag, and the root (index into `roots`) it was found under. Objects have no
 * inode: each gets its own number (one key is one object; the planner counts a dev:ino once), no
 * owner and no mode. An object gone since it was hashed is left out (a group left with one goes).
 */
export async function describeS3DupeGroups(
  groups: readonly DupeGroup[],
  roots: readonly string[],
  objects: S3Objects,
): Promise<DedupeGroupInput[]> {
  const out: DedupeGroupInput[] = [];
  let ino = 0;
  for (const g of groups) {
    const files: DedupeCandidate[] = [];
    await eachAtOnce(g.paths, async (p) => {
      const info = await objects.head(parseS3Uri(p, 'path'));
      const root = rootIndexOf(roots, p);
      if (info === undefined || root < 0) return;
      const id = objectIdentity(info);
      files.push({ ...id, path: p, root, dev: OBJECT_DEV, ino: 0, nlink: 1, uid: 0, gid: 0, mode: 0 });
    });
    // In the report's order (the HEADs answer in any), each its own number.
    const order = new Map(g.paths.map((p, i) => [p, i]));
    files.sort((a, b) => order.get(a.path)! - order.get(b.path)!);
    for (const f of files) f.ino = ++ino;
    if (files.length > 1) out.push({ size: g.size, hash: g.hash, files });
  }
  return out;
}
