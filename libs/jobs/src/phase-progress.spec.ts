import { describe, expect, it } from 'vitest';
import { phaseProgressOf } from './phase-progress.js';

describe('phaseProgressOf', () => {
  it("reads the running phase's files and bytes done of their totals", () => {
    const hash = { phase: 'apply', filesTotal: '10', bytesTotal: '1000', filesDone: '4', bytesDone: '300', entries: '99' };
    expect(phaseProgressOf(hash, 'apply')).toEqual({ phase: 'apply', files: 4, filesTotal: 10, bytes: 300, bytesTotal: 1000 });
  });

  it('says nothing about another phase, or before any phase set its totals', () => {
    expect(phaseProgressOf({ phase: 'apply', filesTotal: '10', filesDone: '10' }, 'undo')).toBeUndefined();
    expect(phaseProgressOf({ entries: '5', shardsDone: '1' }, 'scan')).toBeUndefined();
  });

  it('never reports more done than the total (a shard run twice counts twice)', () => {
    const p = phaseProgressOf({ phase: 'hash', filesTotal: '3', bytesTotal: '30', filesDone: '5', bytesDone: '50' }, 'hash');
    expect(p).toMatchObject({ files: 3, bytes: 30 });
  });
});
