import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, sleep } from '@filer/testing';

/**
 * stderr is a pipe whose reader is slow (a test harness, `2>&1 | less`, a log shipper): filer's
 * stderr is non-blocking once Node has looked at it, so a full pipe answers a write with EAGAIN.
 * Every line must still arrive — the per-path errors and the job's summary after them (found when
 * the summary of a job stopped by a full disk went missing behind 180 ENOSPC lines).
 */

let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-stderr-'));
  // 2,000 symlinks that loop onto themselves: `find -L` reports each, about 200 KiB of stderr.
  for (let i = 0; i < 2000; i++) fs.symlinkSync(`loop-${i}`, path.join(base, `loop-${i}`));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('stderr to a slow reader', () => {
  it('loses no line when the pipe fills up', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [FILER_BIN, 'find', base, '-L'], {
      env: { ...process.env, XDG_CACHE_HOME: path.join(base, 'cache') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const chunks: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    // Not reading for a while: the pipe (64 KiB) fills long before filer is done.
    child.stderr.pause();
    await sleep(1500);
    child.stderr.resume();
    const code = await closed;
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(2000);
    expect(new Set(lines).size).toBe(2000);
    for (const l of lines) expect(l).toMatch(/^filer: .*\/loop-\d+: too many symbolic links encountered \[ELOOP\]$/);
    expect(code).toBe(1);
  });
});
