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

/**
 * Variables that make every Node.js start-up slower and that no benchmarked command needs. With
 * NODE_EXTRA_CA_CERTS set, Node 20 parses its whole root store and the extra file before running
 * any script (≈ 80 ms on this project's machines, more than a warm `filer dupes` spends in its
 * lookup); a sandbox's proxy set-up exports it to every process, a user's shell rarely does.
 */
const STARTUP_COSTLY = ['NODE_EXTRA_CA_CERTS'];
const unset = [];

/** Removes STARTUP_COSTLY variables from this process's environment, which every run inherits. */
export function cleanRunEnvironment() {
  for (const key of STARTUP_COSTLY) {
    if (process.env[key] === undefined) continue;
    delete process.env[key];
    unset.push(key);
  }
  return unset;
}

/** For a results file's method line: what cleanRunEnvironment removed, or ''. */
export function environmentNote() {
  return unset.length === 0
    ? ''
    : `; unset for every run: ${unset.join(', ')} (it costs each Node.js start-up ~80 ms, see bench/lib/env.mjs)`;
}
