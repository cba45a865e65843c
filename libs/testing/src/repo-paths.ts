import { fileURLToPath } from 'node:url';

/** The monorepo root, found from this module's location (src/ or dist/ of libs/testing). */
export const REPO_ROOT: string = fileURLToPath(new URL('../../../', import.meta.url));

/** The built CLI's entry script, `apps/cli/bin/filer.js`. */
export const FILER_BIN: string = fileURLToPath(new URL('../../../apps/cli/bin/filer.js', import.meta.url));

/** The built entry script of an app, `apps/<app>/dist/main.js` (api, scanner-worker, batch-worker). */
export function appMain(app: string): string {
  return fileURLToPath(new URL(`../../../apps/${app}/dist/main.js`, import.meta.url));
}
