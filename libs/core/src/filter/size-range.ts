/** Inclusive size bounds in bytes: `--min-size 2k` keeps files of 2000 bytes and more. */
export function compileSizeFilter(min?: number, max?: number): ((size: number) => boolean) | undefined {
  if (min === undefined && max === undefined) return undefined;
  const lo = min ?? 0;
  const hi = max ?? Number.POSITIVE_INFINITY;
  return (size) => size >= lo && size <= hi;
}
