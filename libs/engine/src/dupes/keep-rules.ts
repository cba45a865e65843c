import { compileExcludeFilter, invalidArgument, KEEP_RULE_NAMES } from '@filer/core';
import type { DedupeCandidate } from './dedupe-types.js';

/** `--keep RULE`: which copy of a group stays. */
export type KeepRule =
  | { kind: 'oldest' | 'newest' | 'shortest-path' | 'longest-path' | 'first-root' }
  | { kind: 'path'; glob: string; matches(name: string, relPath: string): boolean };

const NAMED = KEEP_RULE_NAMES;

/** Parses one `--keep` value: a named rule or `path:GLOB` (a glob without `/` matches the base name, with `/` the path below its root, as --exclude). */
export function parseKeepRule(text: string): KeepRule {
  if ((NAMED as readonly string[]).includes(text)) return { kind: text as (typeof NAMED)[number] };
  if (text.startsWith('path:') && text.length > 5) {
    const glob = text.slice(5);
    return { kind: 'path', glob, matches: compileExcludeFilter([glob])! };
  }
  throw invalidArgument('keep', text, `invalid --keep rule '${text}': expected ${NAMED.join(', ')} or path:GLOB`);
}

/** Negative when `a` is preferred by the rule, positive when `b` is, 0 when it does not decide. */
type Compare = (a: DedupeCandidate, b: DedupeCandidate) => number;

const byNs = (a: string, b: string): number => {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};

function compareBy(rule: KeepRule, roots: readonly string[]): Compare {
  switch (rule.kind) {
    case 'oldest':
      return (a, b) => byNs(a.mtimeNs, b.mtimeNs);
    case 'newest':
      return (a, b) => byNs(b.mtimeNs, a.mtimeNs);
    case 'shortest-path':
      return (a, b) => a.path.length - b.path.length;
    case 'longest-path':
      return (a, b) => b.path.length - a.path.length;
    case 'first-root':
      return (a, b) => a.root - b.root;
    case 'path': {
      const hit = (c: DedupeCandidate): number => (rule.matches(baseName(c.path), relativeTo(roots[c.root], c.path)) ? 0 : 1);
      return (a, b) => hit(a) - hit(b);
    }
  }
}

/** Orders candidates best-kept first: the first rule that decides wins, then path order. */
export function keepOrder(rules: readonly KeepRule[], roots: readonly string[]): Compare {
  const compares = rules.map((r) => compareBy(r, roots));
  return (a, b) => {
    for (const c of compares) {
      const d = c(a, b);
      if (d !== 0) return d;
    }
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  };
}

export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** `p` below `root` ('' for the root itself); `p` must be inside it. */
export function relativeTo(root: string, p: string): string {
  const r = root.endsWith('/') ? root : root + '/';
  return p.startsWith(r) ? p.slice(r.length) : p === root ? '' : p;
}
