/** Bytes hashed from each end of a file in the sample phase. */
export const SAMPLE_BLOCK = 4096;

/** The largest file read whole in the sample phase. */
export const WHOLE_SAMPLE_MAX = 2 * SAMPLE_BLOCK;

/** Files this small are read whole in the sample phase: their sample hash is a content hash. */
export function sampleIsWhole(size: number): boolean {
  return size <= WHOLE_SAMPLE_MAX;
}

/** The byte ranges a sample covers: the head, and the tail when the file is larger than both. */
export function sampleRanges(size: number): [start: number, length: number][] {
  if (sampleIsWhole(size)) return [[0, size]];
  return [
    [0, SAMPLE_BLOCK],
    [size - SAMPLE_BLOCK, SAMPLE_BLOCK],
  ];
}
