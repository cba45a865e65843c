import type { RE2JS } from 're2js';
import { lazyRequire } from '../lazy-require.js';
import { invalidArgument } from '../errors.js';

const loadRe2 = lazyRequire<{ RE2JS: typeof RE2JS }>('re2js');

/** Compiles a user's regex with RE2 (linear time); a bad or unsupported pattern is an input error naming the field. */
export function compileRe2(pattern: string, field: string): RE2JS {
  try {
    return loadRe2().RE2JS.compile(pattern);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw invalidArgument(field, pattern, `invalid regex '${pattern}': ${reason} (RE2 syntax: no backreferences or lookaround)`);
  }
}

/**
 * Compiles `--regex` with RE2 semantics (re2js): matching is linear in the name's length, so no
 * pattern, however written, can hang the process. Features RE2 lacks (backreferences, lookaround)
 * are rejected with a clear error rather than silently changed. The regex is searched for anywhere
 * in the base name, like fd; anchor it with `^…$` for a whole-name match, `(?i)` for no case.
 */
export function compileNameRegexFilter(pattern: string | undefined, field = 'regex'): ((name: string) => boolean) | undefined {
  if (pattern === undefined) return undefined;
  const re = compileRe2(pattern, field);
  return (name) => re.test(name);
}

/** `--replace RE --with S`: every match in a name replaced, `$1`… naming groups, in linear time. */
export function compileNameReplacer(pattern: string, replacement: string, field = 'replace'): (name: string) => string {
  const re = compileRe2(pattern, field);
  return (name) => re.matcher(name).replaceAll(replacement);
}
