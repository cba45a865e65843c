import type { RE2JS } from 're2js';
import { lazyRequire } from '../lazy-require.js';

const loadRe2 = lazyRequire<{ RE2JS: typeof RE2JS }>('re2js');
import { invalidArgument } from '../errors.js';

/**
 * Compiles `--regex` with RE2 semantics (re2js): matching is linear in the name's length, so no
 * pattern, however written, can hang the process. Features RE2 lacks (backreferences, lookaround)
 * are rejected with a clear error rather than silently changed. The regex is searched for anywhere
 * in the base name, like fd; anchor it with `^…$` for a whole-name match, `(?i)` for no case.
 */
export function compileNameRegexFilter(pattern: string | undefined, field = 'regex'): ((name: string) => boolean) | undefined {
  if (pattern === undefined) return undefined;
  let re: RE2JS;
  try {
    re = loadRe2().RE2JS.compile(pattern);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw invalidArgument(field, pattern, `invalid regex '${pattern}': ${reason} (RE2 syntax: no backreferences or lookaround)`);
  }
  return (name) => re.test(name);
}
