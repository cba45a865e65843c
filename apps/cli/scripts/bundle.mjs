#!/usr/bin/env node
// Bundles the compiled CLI (apps/cli/dist, after `tsc -b`) into apps/cli/dist/bundle: a run then loads
// a few files instead of about a hundred ES modules, whose resolution and linking cost Node 20 some
// 35 ms of every command, a third of a warm `filer dupes`. Lazily loaded parts (S3, batch, remote)
// stay separate chunks, loaded only when used; the worker threads' scripts are entry points beside
// the chunks that start them. Third-party packages and native addons stay in node_modules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const at = (p) => path.join(repo, p);

/**
 * Bundles this repository's own modules only: every other package (and Node's built-ins) is loaded
 * from node_modules as before, so no dependency's CommonJS or UMD wrapper is rewritten (hash-wasm's
 * was broken by it), and the native scanner stays a separate package.
 */
const onlyOwnModules = {
  name: 'only-own-modules',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@filer/') && args.path !== '@filer/fs-scan' ? undefined : { path: args.path, external: true },
    );
  },
};

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
  plugins: [onlyOwnModules],
});
