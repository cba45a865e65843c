#!/usr/bin/env node
// Bundles the compiled CLI (apps/cli/dist, after `tsc -b`) into apps/cli/dist/bundle: a run then loads
// a few files instead of about a hundred ES modules, whose resolution and linking cost Node 20 some
// 35 ms of every command, a third of a warm `filer dupes`. Lazily loaded parts (S3, batch, remote)
// stay separate chunks, loaded only when used; the worker threads' scripts are entry points beside
// the chunks that start them. Native addons and the AWS SDK stay in node_modules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const at = (p) => path.join(repo, p);

// Chunk names carry content hashes: start empty so no stale chunk is left behind.
fs.rmSync(at('apps/cli/dist/bundle'), { recursive: true, force: true });
await build({
  entryPoints: {
    main: at('apps/cli/dist/main.js'),
    'hash-worker': at('libs/storage/dist/local/hash-worker.js'),
    'walk-worker': at('libs/storage/dist/local/walk-worker.js'),
  },
  outdir: at('apps/cli/dist/bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  external: ['better-sqlite3', '@filer/fs-scan', '@aws-sdk/*', '@smithy/*', 'exifr', 'zod'],
  // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __filerRequire } from 'node:module'; const require = __filerRequire(import.meta.url);" },
});
