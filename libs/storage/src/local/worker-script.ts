import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The compiled script of a worker thread beside this module; when this module runs from its
 * TypeScript source (tests), the built copy under dist/ is used instead.
 */
export function workerScript(name: string, from: string): URL {
  const beside = new URL(`./${name}`, from);
  if (fs.existsSync(fileURLToPath(beside))) return beside;
  return new URL(`./${name}`, from.replace('/src/', '/dist/'));
}
