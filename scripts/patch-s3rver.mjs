// Patches s3rver 3.7.1, idempotently; run by the root `postinstall`. Real S3, MinIO and Ceph behave
// as patched; this only makes the test server honest. s3rver is a dev dependency: absent in
// production installs.
//
// - delimiter: its walker prunes every directory below a common prefix before seeing an object
//   there, so ListObjectsV2 with Delimiter '/' omits a prefix whose first level holds only
//   sub-prefixes (keys `a/b/c` with nothing directly under `a/` → no `a/`). The fix descends until
//   that common prefix has been recorded once, then prunes as before.
// - put: putObject answered as soon as it had handed the body to its write stream (a Buffer body:
//   right after `end()`; a streamed one: when its hashing stage finished), so a client's HEAD or
//   GET right after the PUT could find the object empty (rclone: "sizes differ 197 vs 0", seen on
//   a loaded machine). It now answers once the file is written and closed.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let file;
try {
  file = require.resolve('s3rver/lib/stores/filesystem.js', { paths: [process.cwd(), new URL('..', import.meta.url).pathname] });
} catch {
  process.exit(0); // not installed (production install): nothing to patch
}

const PATCHES = [
  {
    mark: 'filer-patch: delimiter',
    before: `          // avoid directories occurring beneath a common prefix
          return false;`,
    after: `          // avoid directories occurring beneath a common prefix once it was seen (filer-patch: delimiter)
          const rest = dirPath.slice(prefixPath.length);
          return !commonPrefixes.has(prefix + FilesystemStore.decodeKeyPath(rest.slice(0, rest.indexOf(delimiterEnc) + delimiterEnc.length)));`,
  },
  {
    mark: 'filer-patch: put',
    before: `      if (Buffer.isBuffer(object.content)) {
        writeStream.end(object.content);
        md5Context.update(object.content);
        resolve([object.content.length, md5Context.digest('hex')]);
      } else {`,
    after: `      // answered once the file is written and closed (filer-patch: put)
      writeStream.on('error', reject);
      if (Buffer.isBuffer(object.content)) {
        md5Context.update(object.content);
        const digest = md5Context.digest('hex');
        writeStream.on('close', () => resolve([object.content.length, digest]));
        writeStream.end(object.content);
      } else {`,
  },
  {
    mark: 'filer-patch: put stream',
    before: `          .on('error', reject)
          .on('finish', () => resolve([totalLength, md5Context.digest('hex')]))
          .pipe(writeStream);`,
    after: `          .on('error', reject)
          .pipe(writeStream)
          .on('close', () => resolve([totalLength, md5Context.digest('hex')])); // filer-patch: put stream`,
  },
];

let src = fs.readFileSync(file, 'utf8');
for (const p of PATCHES) {
  if (src.includes(p.mark)) continue;
  if (!src.includes(p.before)) {
    console.error(`patch-s3rver: ${file} does not look like s3rver 3.7.1 (${p.mark}); not patched`);
    continue;
  }
  src = src.replace(p.before, p.after);
  console.error(`patch-s3rver: patched ${file} (${p.mark})`);
}
fs.writeFileSync(file, src);
