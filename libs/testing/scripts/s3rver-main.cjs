'use strict';
/* global process, console */
// Runs s3rver for the test harness: `node --openssl-legacy-provider s3rver-main.cjs DIR [BUCKET…]`.
// Listens on a free loopback port (or on S3RVER_PORT: a restart on the same store and port) and
// prints `{"port":N}` on stdout once it accepts requests.
// The legacy provider is needed because s3rver's continuation tokens use DES.
const fs = require('node:fs');
const S3rver = require('s3rver');

const storePath = require.resolve('s3rver/lib/stores/filesystem.js');
const store = fs.readFileSync(storePath, 'utf8');
const missing = ['filer-patch: delimiter', 'filer-patch: put', 'filer-patch: put stream'].filter((mark) => !store.includes(mark));
if (missing.length > 0) {
  console.error(`s3rver is not patched (${missing.join(', ')}; run node scripts/patch-s3rver.mjs): ${storePath}`);
  process.exit(3);
}
const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(process.env.S3RVER_PORT || 0),
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name })),
});
server.run((err, address) => {
  if (err) {
    console.error(String(err && err.stack ? err.stack : err));
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ port: address.port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
