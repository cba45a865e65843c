import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Loads a CommonJS dependency on first use. Every walker thread imports the filters, and most
 * runs use no glob or regex: loading the matchers eagerly cost each thread tens of milliseconds.
 */
export function lazyRequire<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(id) as T);
}
