#!/usr/bin/env node
// The bundled CLI (`npm run build` makes it: a few files to load instead of about a hundred
// modules), or the compiled modules where only `tsc -b` has run.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/bundle/main.js', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../dist/main.js');
