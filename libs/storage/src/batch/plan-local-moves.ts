import * as fs from 'node:fs';
import * as path from 'node:path';
import { planMoves, type MovePlan, type MoveRequest, type OnConflict } from '@filer/engine';
import { isCaseInsensitiveAt } from '../local/case-probe.js';

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

/** Plans moves against the local disk: what exists, what cannot be created, and whether targets fold case. */
export function planLocalMoves(requests: readonly MoveRequest[], onConflict: OnConflict): MovePlan {
  // Probe the first few distinct target directories; one case-insensitive place makes the whole plan careful.
  const dirs = [...new Set(requests.map((r) => r.target.slice(0, r.target.lastIndexOf('/'))))].slice(0, 64);
  const caseInsensitive = dirs.some((d) => isCaseInsensitiveAt(d + '/x'));
  return planMoves(requests, { exists: existsOrLink, blocked: ancestorCheck(), caseInsensitive }, onConflict);
}
