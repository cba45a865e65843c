import { readCaptureDate, type CaptureDate } from './capture-date.js';

/** Files whose metadata is read at once: exifr's reads are asynchronous, so this is I/O in flight. */
const CONCURRENCY = 32;

/** Capture dates of many files, read concurrently, in the order given. */
export async function readCaptureDates(paths: readonly string[]): Promise<(CaptureDate | undefined)[]> {
  const out = new Array<CaptureDate | undefined>(paths.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      out[i] = await readCaptureDate(paths[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, paths.length) }, worker));
  return out;
}
