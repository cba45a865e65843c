import { FilerError } from '@filer/core';

/**
 * The signature of `reflinkDedupe` in ./reflink-dedupe.ts (FIDEDUPERANGE, being built beside this):
 * shares `copy`'s extents with `kept`'s, throwing a FilerError E_UNSUPPORTED where the file
 * system cannot and E_CHANGED where the bytes differ.
 */
export type ReflinkDedupe = (kept: string, copy: string) => Promise<{ deduped: number }>;

/**
 * Until reflink-dedupe.ts lands, every reflink is skipped with E_UNSUPPORTED. Wiring it is one
 * line: `export { reflinkDedupe } from './reflink-dedupe.js';` in place of this stub.
 */
export const reflinkDedupe: ReflinkDedupe = (kept) =>
  Promise.reject(new FilerError('E_UNSUPPORTED', 'reflink: not built yet', { path: kept }));
