import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DedupeScratch } from '../src/state/dedupe-scratch.js';

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('DedupeScratch', () => {
  it('claims a target once, gives the skips back in order from disk, and leaves no file when closed', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dedupe-scratch-'));
    const sut = new DedupeScratch(path.join(dir, 'spill'));
    expect(sut.skipped).toBe(0);
    expect([...sut.skips()]).toEqual([]);
    // Nothing asked yet: no file made.
    expect(fs.existsSync(path.join(dir, 'spill'))).toBe(false);
    expect(sut.claim('/m/x')).toBe(true);
    expect(sut.claim('/m/y')).toBe(true);
    expect(sut.claim('/m/x')).toBe(false);
    for (const line of ['skip b', 'skip a', 'skip c']) sut.addSkip(line);
    expect(sut.skipped).toBe(3);
    expect([...sut.skips()]).toEqual(['skip b', 'skip a', 'skip c']);
    expect(fs.readdirSync(path.join(dir, 'spill')).filter((f) => /^dedupe-\d+-[0-9a-f]+\.db$/.test(f))).toHaveLength(1);
    sut.close();
    expect(fs.readdirSync(path.join(dir, 'spill'))).toEqual([]);
  });
});
