import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler } from '@filer/testing';

/*
 * The progress of an in-process copy, resume and undo: files and bytes of the totals the plan
 * gives, with a rate and an ETA, as a line (`--progress`) or as JSON lines (`--progress=json`),
 * on stderr only — stdout carries the plan alone either way.
 */

/** What a progress line writes to clear itself (ESC [ K). */
const CLEAR = '\u001b[K';
const FILES = 2500;
const SIZE = 16_384;
let base: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-progress-'));
  env = { XDG_CACHE_HOME: path.join(base, 'cache') };
  const src = path.join(base, 'src');
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(src, `d${i % 10}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}`), Buffer.alloc(SIZE, i % 251));
  }
});

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** The lines a progress line drew, as a terminal would show them one after the other. */
const drawn = (stderr: string): string[] =>
  stderr
    .split(/\r|\n/)
    .map((l) => l.replaceAll(CLEAR, ''))
    .filter((l) => l !== '');

describe('progress of a batch job in-process', () => {
  it('--progress draws files and bytes of the plan’s totals with a rate and an ETA, then clears it before the summary', async () => {
    const r = await runFiler(['--progress', 'copy', path.join(base, 'src'), '--dest', path.join(base, 'text'), '--apply', '--no-fsync'], {
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = drawn(r.stderr).filter((l) => l.startsWith('apply '));
    expect(lines.length, r.stderr).toBeGreaterThan(0);
    for (const l of lines)
      expect(l).toMatch(/^apply [\d,]+\/2,500 files \(\d+%\) · [\d.]+ \w+ of 39\.1 MiB \(\d+%\)( · [\d.]+ \w+\/s( · ETA \d+:\d\d)?)?$/);
    // The line is cleared (\r ESC[K) before the job's summary is written.
    expect(r.stderr).toMatch(new RegExp(`\r${CLEAR.replace('[', '\\[')}filer: job \\S+ completed: 2500 done`));
    expect(r.stdout.split('\n').filter((l) => l.includes(' → '))).toHaveLength(FILES);
  }, 120_000);

  it('--progress=json writes JSON lines whose last one says all files and bytes are done; undo reports its own', async () => {
    const dest = path.join(base, 'json');
    const r = await runFiler(['--progress=json', 'copy', path.join(base, 'src'), '--dest', dest, '--apply', '--no-fsync'], { env });
    expect(r.code, r.stderr).toBe(0);
    const records = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(0);
    expect(records.at(-1)).toMatchObject({
      phase: 'apply',
      done: FILES,
      total: FILES,
      bytes: FILES * SIZE,
      bytesTotal: FILES * SIZE,
      eta: 0,
    });
    expect(records.at(-1)!.rate).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/\r/);
    const id = /filer: job (\S+): journaled/.exec(r.stderr)![1];
    const undo = await runFiler(['--progress=json', 'jobs', 'undo', id], { env });
    expect(undo.code, undo.stderr).toBe(0);
    const last = JSON.parse(
      undo.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1)!,
    ) as Record<string, unknown>;
    expect(last).toMatchObject({ phase: 'undo', done: FILES, total: FILES, bytes: FILES * SIZE, bytesTotal: FILES * SIZE });
    expect(fs.existsSync(path.join(dest, 'd0', 'f0'))).toBe(false);
  }, 120_000);

  it('without --progress and with stderr a pipe, nothing but the summary', async () => {
    const r = await runFiler(['copy', path.join(base, 'src'), '--dest', path.join(base, 'quiet'), '--apply', '--no-fsync'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\r|^apply |^\{/m);
  }, 120_000);

  it('--progress=yaml and --progress-format yaml are bad usage', async () => {
    const r = await runFiler(['--progress-format', 'yaml', 'find', base], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--progress-format/);
    const eq = await runFiler(['--progress=yaml', 'find', base], { env });
    expect(eq.code).toBe(2);
    expect(eq.stderr).toMatch(/--progress/);
    expect(eq.stdout).toBe('');
  });
});
