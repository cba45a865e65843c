import * as fs from 'node:fs';
import * as path from 'node:path';
import { planMoves, type MovePlan, type MoveRequest, type OnConflict } from '@filer/engine';
import { isCaseInsensitiveAt } from '../local/case-probe.js';
import { ODD_SEGMENT, RealPaths } from '../local/real-paths.js';
import { isS3Uri } from '../s3/s3-uri.js';

function existsOrLink(p: string): boolean {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true; // ENOTDIR and the like: something is in the way
  }
}

/** The nearest existing ancestor must be a directory, or nothing can be created below it (memoised per directory). */
function ancestorCheck(): (p: string) => string | undefined {
  const verdicts = new Map<string, string | undefined>();
  const check = (dir: string): string | undefined => {
    if (verdicts.has(dir)) return verdicts.get(dir);
    let verdict: string | undefined;
    try {
      const st = fs.statSync(dir, { throwIfNoEntry: false });
      if (st !== undefined) verdict = st.isDirectory() ? undefined : `${dir} is not a directory`;
      else verdict = dir === path.dirname(dir) ? undefined : check(path.dirname(dir));
    } catch (e) {
      verdict = `${(e as NodeJS.ErrnoException).code ?? 'error'} at ${dir}`;
    }
    verdicts.set(dir, verdict);
    return verdict;
  };
  return (p) => {
    const why = check(path.dirname(p));
    return why === undefined ? undefined : `cannot create ${p}: ${why}`;
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
  // Probe the first few distinct target directories; one case-insensitive place makes the whole plan careful.
  const dirs = [...new Set(resolved.map((r) => r.target.slice(0, r.target.lastIndexOf('/'))))].slice(0, 64);
  const caseInsensitive = dirs.some((d) => isCaseInsensitiveAt(d + '/x'));
  return planMoves(resolved, { exists: existsOrLink, blocked: ancestorCheck(), caseInsensitive }, onConflict);
}
