/** Counters a walk keeps; summed across threads and shards for exact totals. */
export interface WalkStats {
  dirs: number;
  entries: number;
  matched: number;
  bytesMatched: number;
  errors: number;
}

export function emptyWalkStats(): WalkStats {
  return { dirs: 0, entries: 0, matched: 0, bytesMatched: 0, errors: 0 };
}

export function addWalkStats(into: WalkStats, from: WalkStats): WalkStats {
  into.dirs += from.dirs;
  into.entries += from.entries;
  into.matched += from.matched;
  into.bytesMatched += from.bytesMatched;
  into.errors += from.errors;
  return into;
}
