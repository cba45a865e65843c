// Small helpers every benchmark needs: finding a peer tool on PATH, reading a numeric setting.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The full path of an executable on PATH, or undefined. */
export function onPath(bin) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      fs.accessSync(path.join(dir, bin), fs.constants.X_OK);
      return path.join(dir, bin);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A whole-number environment setting (at least `min`), or `dflt` when unset. */
export function intEnv(key, dflt, min) {
  const v = process.env[key];
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${key}=${v}: expected a whole number >= ${min}`);
  return Number(v);
}
