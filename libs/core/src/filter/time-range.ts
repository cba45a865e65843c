/** Strict bounds on modification time: newer means modified after the point, older before it. */
export function compileTimeFilter(newerThanMs?: number, olderThanMs?: number): ((mtimeMs: number) => boolean) | undefined {
  if (newerThanMs === undefined && olderThanMs === undefined) return undefined;
  const lo = newerThanMs ?? Number.NEGATIVE_INFINITY;
  const hi = olderThanMs ?? Number.POSITIVE_INFINITY;
  return (mtimeMs) => mtimeMs > lo && mtimeMs < hi;
}
