import { describe, expect, it } from 'vitest';
import type { RemoteJob } from './api-client.js';
import { formatDuration, formatPhaseProgress, PhaseRateClock, RemoteProgressLine, remoteProgressText } from './remote-progress.js';

const MiB = 1024 ** 2;

function job(over: Partial<RemoteJob> = {}): RemoteJob {
  return {
    id: 'j1',
    kind: 'copy',
    state: 'running',
    phase: 'scan',
    counters: { dirs: 3, entries: 1500, matched: 1200, bytes: 0, errors: 2, errorsByCode: {} },
    shards: { total: 4, done: 1, failed: 0 },
    errorSample: [],
    spec: { apply: true, options: {} },
    ...over,
  };
}

describe('formatPhaseProgress', () => {
  it('shows files and bytes done of their totals with percentages, for each phase', () => {
    for (const phase of ['hash', 'apply', 'undo'])
      expect(formatPhaseProgress({ phase, files: 1234, filesTotal: 5000, bytes: 3 * MiB, bytesTotal: 12 * MiB })).toBe(
        `${phase} 1,234/5,000 files (24%) · 3.00 MiB of 12.0 MiB (25%)`,
      );
  });

  it('shows no percentage of a zero total, and no bytes when the phase has none', () => {
    expect(formatPhaseProgress({ phase: 'apply', files: 0, filesTotal: 0, bytes: 0, bytesTotal: 0 })).toBe('apply 0/0 files');
    // Empty files only: counted in files, nothing in bytes.
    expect(formatPhaseProgress({ phase: 'apply', files: 3, filesTotal: 7, bytes: 0, bytesTotal: 0 })).toBe('apply 3/7 files (42%)');
  });

  it('formats bytes in binary units, from bytes to GiB', () => {
    expect(formatPhaseProgress({ phase: 'hash', files: 1, filesTotal: 2, bytes: 512, bytesTotal: 1023 })).toBe(
      'hash 1/2 files (50%) · 512 B of 1023 B (50%)',
    );
    expect(formatPhaseProgress({ phase: 'hash', files: 1, filesTotal: 2, bytes: 1536, bytesTotal: 1.5 * 1024 ** 3 })).toBe(
      'hash 1/2 files (50%) · 1.50 KiB of 1.50 GiB (0%)',
    );
  });

  it('adds the rate and an ETA weighted by bytes', () => {
    // 4 MiB in 2 s since the phase was first seen: 2 MiB/s; 8 MiB left: 4 s.
    const p = { phase: 'apply', files: 10, filesTotal: 100, bytes: 4 * MiB, bytesTotal: 12 * MiB };
    expect(formatPhaseProgress(p, { elapsedSec: 2, files: 10, bytes: 4 * MiB })).toBe(
      'apply 10/100 files (10%) · 4.00 MiB of 12.0 MiB (33%) · 2.00 MiB/s · ETA 0:04',
    );
    // Few files but most of the bytes: the ETA follows the bytes, not the file count.
    const big = { phase: 'apply', files: 1, filesTotal: 100, bytes: 90 * MiB, bytesTotal: 100 * MiB };
    expect(formatPhaseProgress(big, { elapsedSec: 9, files: 1, bytes: 90 * MiB })).toMatch(/ · 10\.0 MiB\/s · ETA 0:01$/);
  });

  it('has an ETA by files when the phase has no bytes, none once done, and none before anything moved', () => {
    expect(
      formatPhaseProgress({ phase: 'apply', files: 5, filesTotal: 20, bytes: 0, bytesTotal: 0 }, { elapsedSec: 1, files: 5, bytes: 0 }),
    ).toBe('apply 5/20 files (25%) · ETA 0:03');
    expect(
      formatPhaseProgress(
        { phase: 'apply', files: 20, filesTotal: 20, bytes: MiB, bytesTotal: MiB },
        { elapsedSec: 2, files: 20, bytes: MiB },
      ),
    ).toBe('apply 20/20 files (100%) · 1.00 MiB of 1.00 MiB (100%) · 512.0 KiB/s');
    const p = { phase: 'undo', files: 5, filesTotal: 20, bytes: MiB, bytesTotal: 4 * MiB };
    expect(formatPhaseProgress(p, { elapsedSec: 3, files: 0, bytes: 0 })).toBe('undo 5/20 files (25%) · 1.00 MiB of 4.00 MiB (25%)');
    expect(formatPhaseProgress(p, { elapsedSec: 0, files: 5, bytes: MiB })).toBe('undo 5/20 files (25%) · 1.00 MiB of 4.00 MiB (25%)');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0:00'],
    [0.2, '0:01'],
    [59, '0:59'],
    [61, '1:01'],
    [3599, '59:59'],
    [3600, '1:00:00'],
    [36_061, '10:01:01'],
  ])('%s s is %s', (secs, text) => expect(formatDuration(secs)).toBe(text));
});

describe('remoteProgressText', () => {
  it('shows the scan counters while no phase reports progress', () => {
    expect(remoteProgressText(job(), 2)).toBe('running (scan) · shards 1/4 · scanned 1,500 entries (750/s) · matched 1,200 · errors 2');
    expect(remoteProgressText(undefined, 2)).toBeUndefined();
  });

  it("shows the running phase's progress when the record carries it", () => {
    const rec = job({
      state: 'applying',
      phase: 'apply',
      progress: { phase: 'apply', files: 7, filesTotal: 240, bytes: 2048, bytesTotal: 4096 },
    });
    expect(remoteProgressText(rec, 5)).toBe('applying (apply) · shards 1/4 · apply 7/240 files (2%) · 2.00 KiB of 4.00 KiB (50%)');
  });

  it('shows the outcome counts of an applied job between phases (a resume, an undo before its totals)', () => {
    const rec = job({ state: 'undoing', phase: 'undo', apply: { done: 3, failed: 1, skipped: 0, undone: 2, pending: 0 } });
    expect(remoteProgressText(rec, 5)).toBe('undoing (undo) · shards 1/4 · done 3, undone 2, failed 1');
  });
});

describe('PhaseRateClock', () => {
  const at = (phase: string, files: number, bytes: number): RemoteJob =>
    job({ progress: { phase, files, filesTotal: 100, bytes, bytesTotal: 1000 } });

  it('measures from the first record of a phase, and starts again with a new phase or a restarted one', () => {
    const clock = new PhaseRateClock();
    expect(clock.observe(job(), 0)).toBe(false);
    expect(clock.rate(job(), 0)).toBeUndefined();
    // Attached midway: what was done before the first record is not counted in the rate.
    expect(clock.observe(at('apply', 10, 100), 1000)).toBe(true);
    expect(clock.observe(at('apply', 30, 300), 3000)).toBe(false);
    expect(clock.rate(at('apply', 30, 300), 3000)).toEqual({ elapsedSec: 2, files: 20, bytes: 200 });
    expect(clock.rate(at('hash', 30, 300), 3000)).toBeUndefined();
    expect(clock.observe(at('undo', 0, 0), 4000)).toBe(true);
    expect(clock.observe(at('undo', 5, 50), 5000)).toBe(false);
    expect(clock.rate(at('undo', 5, 50), 5000)).toEqual({ elapsedSec: 1, files: 5, bytes: 50 });
    expect(clock.observe(at('undo', 2, 20), 6000)).toBe(true); // the undo started again from nothing
  });
});

describe('RemoteProgressLine', () => {
  it("draws a phase's first record at once, and writes nothing when not enabled", () => {
    const out: string[] = [];
    const line = new RemoteProgressLine((s) => out.push(s), true);
    line.update(job());
    expect(out).toEqual([]); // the scan's counters wait for the tick
    line.update(
      job({ state: 'applying', phase: 'apply', progress: { phase: 'apply', files: 0, filesTotal: 240, bytes: 0, bytesTotal: 9000 } }),
    );
    expect(out).toEqual(['\r\x1b[Kapplying (apply) · shards 1/4 · apply 0/240 files (0%) · 0 B of 8.79 KiB (0%)']);
    line.stop();
    expect(out.at(-1)).toBe('\r\x1b[K');

    const quiet: string[] = [];
    const off = new RemoteProgressLine((s) => quiet.push(s), false);
    off.start();
    off.update(job({ progress: { phase: 'apply', files: 0, filesTotal: 1, bytes: 0, bytesTotal: 1 } }));
    off.stop();
    expect(quiet).toEqual([]);
  });
});
