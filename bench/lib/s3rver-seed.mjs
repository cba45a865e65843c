// Seeds an s3rver filesystem store directly with the files of a local tree, as objects under a prefix:
// what `rclone copy T remote:bucket/prefix` would leave there (the object's bytes and its MD5, the
// ETag s3rver reports), written straight to the store's layout (`<key>._S3rver_object` and
// `<key>._S3rver_object.md5`) because s3rver stores about 150 objects/s over HTTP (100,000 objects:
// 11+ minutes). Only for listing benchmarks: the objects carry no stored metadata (no Content-Type),
// which a listing does not return anyway. The layout is s3rver 3.7's (lib/stores/filesystem.js) on
// POSIX, where keys are not encoded.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Copies every file below `tree` into `storeDir/bucket/prefix/…` as s3rver objects; returns the
 * number of objects written. `prefix` has no leading or trailing '/'.
 */
export function seedS3rverStore(storeDir, bucket, prefix, tree) {
  const base = path.join(storeDir, bucket, ...prefix.split('/'));
  let count = 0;
  const walk = (src, dst) => {
    fs.mkdirSync(dst, { recursive: true });
    for (const d of fs.readdirSync(src, { withFileTypes: true })) {
      const from = path.join(src, d.name);
      if (d.isDirectory()) walk(from, path.join(dst, d.name));
      else if (d.isFile()) {
        const bytes = fs.readFileSync(from);
        const object = path.join(dst, `${d.name}._S3rver_object`);
        fs.writeFileSync(object, bytes);
        fs.writeFileSync(`${object}.md5`, crypto.createHash('md5').update(bytes).digest('hex'));
        count++;
      }
    }
  };
  walk(tree, base);
  return count;
}
