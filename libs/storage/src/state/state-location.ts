import * as os from 'node:os';
import * as path from 'node:path';

/** The CLI's state database: `$XDG_CACHE_HOME/filer/filer.db`, else `~/.cache/filer/filer.db`. */
export function defaultStatePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'filer', 'filer.db');
}
