import { describe, expect, it } from 'vitest';
import { progressRecord } from './progress.js';

describe('progressRecord (--progress=json)', () => {
  it('rates and ETA by bytes when the phase moves bytes', () => {
    expect(
      progressRecord({ phase: 'apply', files: 5, filesTotal: 10, bytes: 300, bytesTotal: 1000 }, { elapsedSec: 3, files: 5, bytes: 300 }),
    ).toEqual({ phase: 'apply', done: 5, total: 10, bytes: 300, bytesTotal: 1000, rate: 100, eta: 7 });
  });

  it('by files when it moves none (a rename), and null before anything moved', () => {
    expect(
      progressRecord({ phase: 'apply', files: 4, filesTotal: 10, bytes: 0, bytesTotal: 0 }, { elapsedSec: 2, files: 4, bytes: 0 }),
    ).toMatchObject({
      rate: 2,
      eta: 3,
    });
    expect(
      progressRecord({ phase: 'undo', files: 0, filesTotal: 10, bytes: 0, bytesTotal: 50 }, { elapsedSec: 1, files: 0, bytes: 0 }),
    ).toMatchObject({
      rate: null,
      eta: null,
    });
  });
});
