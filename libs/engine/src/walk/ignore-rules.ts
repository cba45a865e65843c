import { createRequire } from 'node:module';
import type ignoreFn from 'ignore';
import type { Ignore } from 'ignore';

const require = createRequire(import.meta.url);
let ignoreLib: typeof ignoreFn | undefined;
/** Loaded on the first ignore file met: most trees outside repositories have none. */
const loadIgnore = (): typeof ignoreFn => (ignoreLib ??= require('ignore') as typeof ignoreFn);
import type { IgnoreSource } from './dir-task.js';

/** Ignore files read in each directory, lowest precedence first (later rules win, as in fd and ripgrep). */
export const IGNORE_FILE_NAMES = ['.gitignore', '.ignore', '.filerignore'] as const;

interface CompiledLayer {
  src: IgnoreSource;
  ig: Ignore;
}

/**
 * Decides whether an entry is ignored under the stacked ignore files of its ancestors.
 * Compiled layers are cached by base directory, so a thread compiles each file once.
 */
export class IgnoreMatcher {
  private readonly cache = new Map<string, CompiledLayer>();

  private compile(src: IgnoreSource): CompiledLayer {
    let layer = this.cache.get(src.dir);
    if (!layer) {
      layer = { src, ig: loadIgnore()({ allowRelativePaths: true }).add(src.text) };
      this.cache.set(src.dir, layer);
    }
    return layer;
  }

  /** `rel` is relative to the walk root; the deepest file with an opinion decides. */
  isIgnored(sources: readonly IgnoreSource[], rel: string, isDir: boolean): boolean {
    for (let i = sources.length - 1; i >= 0; i--) {
      const layer = this.compile(sources[i]);
      const src = layer.src;
      const local = src.strip === 0 ? src.prefix + rel : src.prefix + rel.slice(src.strip);
      const verdict = layer.ig.test(isDir ? local + '/' : local);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return false;
  }
}
