/**
 * The dedupe job's port to `reflinkDedupe` (./reflink-dedupe.ts: FIDEDUPERANGE through the addon),
 * which shares `copy`'s extents with `kept`'s and throws a FilerError E_UNSUPPORTED where the file
 * system cannot, E_CHANGED where the bytes differ. LocalDedupeOps takes another (tests) in its place.
 */
export type ReflinkDedupe = (kept: string, copy: string) => Promise<{ deduped: number }>;

export { reflinkDedupe } from './reflink-dedupe.js';
