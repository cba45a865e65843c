// Patches s3rver 3.7.1's delimiter listing, idempotently; run by the root `postinstall`.
//
// Its walker prunes every directory below a common prefix before seeing an object there, so
// ListObjectsV2 with Delimiter '/' omits a prefix whose first level holds only sub-prefixes
// (keys `a/b/c` with nothing directly under `a/` → no `a/`). The fix descends until that common
// prefix has been recorded once, then prunes as before. Real S3, MinIO and Ceph list correctly;
// this only makes the test server honest. s3rver is a dev dependency: absent in production installs.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

const MARK = 'filer-patch: delimiter';
const require = createRequire(import.meta.url);
let file;
try {
  file = require.resolve('s3rver/lib/stores/filesystem.js', { paths: [process.cwd(), new URL('..', import.meta.url).pathname] });
} catch {
  process.exit(0); // not installed (production install): nothing to patch
}
const src = fs.readFileSync(file, 'utf8');
if (src.includes(MARK)) process.exit(0);
const before = `          // avoid directories occurring beneath a common prefix
          return false;`;
const after = `          // avoid directories occurring beneath a common prefix once it was seen (${MARK})
          const rest = dirPath.slice(prefixPath.length);
          return !commonPrefixes.has(prefix + FilesystemStore.decodeKeyPath(rest.slice(0, rest.indexOf(delimiterEnc) + delimiterEnc.length)));`;
if (!src.includes(before)) {
  console.error(`patch-s3rver: ${file} does not look like s3rver 3.7.1; not patched`);
  process.exit(0);
}
fs.writeFileSync(file, src.replace(before, after));
console.error(`patch-s3rver: patched ${file} (delimiter listing of prefixes holding only sub-prefixes)`);
