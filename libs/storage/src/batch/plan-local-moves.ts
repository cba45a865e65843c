import * as fs from 'node:fs';
import * as path from 'node:path';
import { planMoves, type MovePlan, type MoveRequest, type OnConflict, type TargetView } from '@filer/engine';
import { isCaseInsensitiveAt } from '../local/case-probe.js';
import { DirListings } from '../local/dir-listings.js';
import { ODD_SEGMENT, RealPaths } from '../local/real-paths.js';
import { isS3Uri } from '../s3/s3-uri.js';

function existsOrLink(p: string): boolean {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true; // ENOTDIR and the like: something is in the way
  }
}

/** Memo entries kept before a memo starts over: per directory, so bounded whatever the file count. */
const MEMO_MAX = 65_536;

/**
 * Per directory (memoised): why nothing can be created below it (its nearest existing ancestor is
 * no directory), and whether it is missing — then no file in it exists, and no lstat is needed.
 */
class DirVerdicts {
  private readonly verdicts = new Map<string, { why?: string; missing: boolean }>();
  /** The last directory asked about: the planner asks about one directory's targets in a row, twice each. */
  private last?: { dir: string; v: { why?: string; missing: boolean } };

  of(dir: string): { why?: string; missing: boolean } {
    if (this.last?.dir === dir) return this.last.v;
    const v = this.lookup(dir);
    this.last = { dir, v };
    return v;
  }

  private lookup(dir: string): { why?: string; missing: boolean } {
    let v = this.verdicts.get(dir);
    if (v !== undefined) return v;
    try {
      const st = fs.statSync(dir, { throwIfNoEntry: false });
      if (st !== undefined) v = { why: st.isDirectory() ? undefined : `${dir} is not a directory`, missing: false };
      else v = { why: dir === path.dirname(dir) ? undefined : this.of(path.dirname(dir)).why, missing: true };
    } catch (e) {
      v = { why: `${(e as NodeJS.ErrnoException).code ?? 'error'} at ${dir}`, missing: false };
    }
    if (this.verdicts.size >= MEMO_MAX) this.verdicts.clear();
    this.verdicts.set(dir, v);
    return v;
  }
}

/** path.dirname of an absolute path without a trailing '/' (a planned target), sliced; path.dirname for any other. */
function dirOf(p: string): string {
  const slash = p.lastIndexOf('/');
  if (slash <= 0 || slash === p.length - 1) return path.dirname(p);
  return p.slice(0, slash);
}

/** The local disk as the planner sees it: what exists, what cannot be created, and whether names fold case. */
export function localTargetView(caseInsensitive: boolean): TargetView {
  const dirs = new DirVerdicts();
  const listings = new DirListings();
  return {
    caseInsensitive,
    exists: (p) => {
      const slash = p.lastIndexOf('/');
      if (slash < 0) return existsOrLink(p);
      const dir = dirOf(p);
      const v = dirs.of(dir);
      if (v.why !== undefined) return existsOrLink(p);
      // A name in a missing directory (a fresh destination's) needs no lstat: ENOENT is certain.
      // In an existing one, the directory's names read once answer for most (a rename's targets).
      if (v.missing) return false;
      return listings.has(dir, p.slice(slash + 1)) ?? existsOrLink(p);
    },
    blocked: (p) => {
      const why = dirs.of(dirOf(p)).why;
      return why === undefined ? undefined : `cannot create ${p}: ${why}`;
    },
  };
}

/** Absolute, with no empty, '.' or '..' segment and no trailing '/': what path.resolve would return unchanged. */
function isCleanAbsolute(p: string): boolean {
  return p.charCodeAt(0) === 47 && !ODD_SEGMENT.test(p);
}

/**
 * Resolves what a plan compares and journals (DESIGN: every path a job acts on is absolute and
 * resolved): local sources and targets get their existing directories resolved through symlinks
 * (their last names as written), and so does the directory each target must stay inside — so a
 * template or a symlink leading out of it is seen for what it is. `s3://` URIs are kept as they are.
 */
export function resolveRequests(requests: readonly MoveRequest[]): MoveRequest[] {
  const real = new RealPaths();
  // Sources come from a walk (a root as the user wrote it, maybe `./r`): normalised. Targets may
  // come from a template or a key: never normalised, so a '..' reaches the planner as written.
  return requests.map((r) => ({
    ...r,
    source: isS3Uri(r.source) ? r.source : real.file(isCleanAbsolute(r.source) ? r.source : path.resolve(r.source)),
    target: isS3Uri(r.target) ? r.target : real.file(r.target),
    ...(r.within === undefined ? {} : { within: isS3Uri(r.within) ? r.within : real.dir(r.within) }),
  }));
}

/** Plans moves against the local disk: what exists, what cannot be created, and whether targets fold case. */
export function planLocalMoves(requests: readonly MoveRequest[], onConflict: OnConflict): MovePlan {
  const resolved = resolveRequests(requests);
  const caseInsensitive = anyCaseInsensitive(resolved.map((r) => r.target));
  return planMoves(resolved, localTargetView(caseInsensitive), onConflict);
}

/** Probes the first few distinct target directories; one case-insensitive place makes the whole plan careful. */
export function anyCaseInsensitive(targets: Iterable<string>): boolean {
  const dirs = new Set<string>();
  for (const t of targets) {
    dirs.add(t.slice(0, t.lastIndexOf('/')));
    if (dirs.size >= CASE_PROBES) break;
  }
  return [...dirs].some((d) => isCaseInsensitiveAt(d + '/x'));
}

export const CASE_PROBES = 64;
