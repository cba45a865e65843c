import ignore, { type Ignore } from 'ignore';
import type { IgnoreSource } from './dir-task.js';

/** Ignore files read in each directory, lowest precedence first (later rules win, as in fd and ripgrep). */
export const IGNORE_FILE_NAMES = ['.gitignore', '.ignore', '.filerignore'] as const;

interface CompiledLayer {
  base: string;
  ig: Ignore;
}

/**
 * Decides whether an entry is ignored under the stacked ignore files of its ancestors.
 * Compiled layers are cached by base directory, so a thread compiles each file once.
 */
export class IgnoreMatcher {
  private readonly cache = new Map<string, CompiledLayer>();

  private compile(src: IgnoreSource): CompiledLayer {
    let layer = this.cache.get(src.base);
    if (!layer) {
      layer = { base: src.base, ig: ignore({ allowRelativePaths: true }).add(src.text) };
      this.cache.set(src.base, layer);
    }
    return layer;
  }

  /** `rel` is relative to the walk root; the deepest file with an opinion decides. */
  isIgnored(sources: readonly IgnoreSource[], rel: string, isDir: boolean): boolean {
    for (let i = sources.length - 1; i >= 0; i--) {
      const layer = this.compile(sources[i]);
      const local = layer.base === '' ? rel : rel.slice(layer.base.length + 1);
      const verdict = layer.ig.test(isDir ? local + '/' : local);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return false;
  }
}
