import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, type RunFilerOptions } from '@filer/testing';

/*
 * When things go wrong at scale: `--max-failures` stops an apply once its failures pass a limit
 * (the journal says why, resume continues), `jobs retry` runs only the failed items again, and
 * `jobs show --format csv` is the per-item report. The failures are real: sources nobody may
 * read (the CLI runs as `nobody`, root would read them).
 */

const BAD = 20;
const GOOD = 600;
let base: string;
const asNobody = (): RunFilerOptions => ({
  asUser: { user: 'nobody', group: 'nogroup' },
  env: { XDG_CACHE_HOME: path.join(base, 'cache') },
});

/** A tree whose first BAD files in path order cannot be read by nobody. */
function makeSource(name: string): string {
  const src = path.join(base, name);
  fs.mkdirSync(src, { mode: 0o755 });
  for (let i = 0; i < BAD; i++) fs.writeFileSync(path.join(src, `a-${String(i).padStart(3, '0')}`), `bad ${i}`, { mode: 0o000 });
  for (let i = 0; i < GOOD; i++) fs.writeFileSync(path.join(src, `b-${String(i).padStart(3, '0')}`), `good ${i}`, { mode: 0o644 });
  return src;
}

const makeReadable = (src: string): void => {
  for (const n of fs.readdirSync(src)) fs.chmodSync(path.join(src, n), 0o644);
};

const destFor = (name: string): string => {
  const d = path.join(base, `${name}-dest`);
  fs.mkdirSync(d, { mode: 0o777 });
  fs.chmodSync(d, 0o777);
  return d;
};

const jobOf = (stderr: string): string => /filer: job (\S+): journaled/.exec(stderr)![1];

async function show(id: string): Promise<{ state: string; reason?: string; counts: Record<string, number> }> {
  const r = await runFiler(['jobs', 'show', id, '-f', 'ndjson'], asNobody());
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.split('\n')[0]) as { job: { state: string; reason?: string; counts: Record<string, number> } }).job;
}

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-max-failures-'));
  fs.chmodSync(base, 0o755);
  fs.mkdirSync(path.join(base, 'cache'), { mode: 0o777 });
  fs.chmodSync(path.join(base, 'cache'), 0o777);
});

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('--max-failures', () => {
  it('stops the apply after the batch that passed the limit, says why in the journal, and resume finishes it', async () => {
    const src = makeSource('stop');
    const dest = destFor('stop');
    const r = await runFiler(['copy', src, '--dest', dest, '--apply', '--max-failures', '3'], asNobody());
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /20 of the 256 actions tried failed, more than --max-failures 3 allows: the job stopped; 364 were not attempted/,
    );
    const id = jobOf(r.stderr);
    const stopped = await show(id);
    expect(stopped.state).toBe('failed');
    expect(stopped.reason).toMatch(/more than --max-failures 3 allows/);
    expect(stopped.counts).toMatchObject({ failed: BAD, done: 256 - BAD, pending: BAD + GOOD - 256 });
    expect(fs.readdirSync(dest)).toHaveLength(256 - BAD);
    makeReadable(src);
    const resumed = await runFiler(['jobs', 'resume', id], asNobody());
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await show(id)).counts).toMatchObject({ done: BAD + GOOD, failed: 0, pending: 0 });
    expect(fs.readdirSync(dest)).toHaveLength(BAD + GOOD);
  }, 120_000);

  it('a percentage waits for 1,000 tried: 20 of 620 failing never stops it', async () => {
    const src = makeSource('pct');
    const r = await runFiler(['copy', src, '--dest', destFor('pct'), '--apply', '--max-failures', '1%'], asNobody());
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/more than --max-failures/);
    expect((await show(jobOf(r.stderr))).counts).toMatchObject({ failed: BAD, done: GOOD, pending: 0 });
  }, 120_000);

  it('a bad limit is bad usage and journals nothing', async () => {
    const src = makeSource('bad');
    const before = (await runFiler(['jobs', 'list'], asNobody())).stdout;
    const r = await runFiler(['copy', src, '--dest', destFor('bad'), '--apply', '--max-failures', 'ten'], asNobody());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-failures: invalid failure limit 'ten'/);
    expect((await runFiler(['jobs', 'list'], asNobody())).stdout).toBe(before);
    expect(fs.readdirSync(path.join(base, 'bad-dest'))).toEqual([]);
  }, 60_000);
});

describe('jobs retry and the per-item report', () => {
  it('retry runs only the failed items again; show --format csv lists every item with its code', async () => {
    const src = makeSource('retry');
    const dest = destFor('retry');
    const r = await runFiler(['copy', src, '--dest', dest, '--apply'], asNobody());
    expect(r.code).toBe(1);
    const id = jobOf(r.stderr);
    const csv = await runFiler(['jobs', 'show', id, '--format', 'csv'], asNobody());
    expect(csv.code, csv.stderr).toBe(0);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('seq,kind,state,code,source,target,size,reason');
    expect(rows).toHaveLength(1 + BAD + GOOD);
    const failed = rows.filter((l) => l.split(',')[2] === 'failed');
    expect(failed).toHaveLength(BAD);
    for (const l of failed) expect(l).toMatch(/^\d+,copy,failed,EACCES,/);
    expect(rows.filter((l) => /^\d+,copy,done,,/.test(l))).toHaveLength(GOOD);
    makeReadable(src);
    // --progress=json counts what the run goes through: the failed items only.
    const retried = await runFiler(['--progress=json', 'jobs', 'retry', id], asNobody());
    expect(retried.code, retried.stderr).toBe(0);
    const last = JSON.parse(
      retried.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1)!,
    ) as { done: number; total: number };
    expect(last).toMatchObject({ done: BAD, total: BAD });
    expect(retried.stderr).toMatch(new RegExp(`job ${id} completed: ${BAD + GOOD} done, 0 undone, 0 failed`));
    expect(fs.readdirSync(dest)).toHaveLength(BAD + GOOD);
    const again = await runFiler(['jobs', 'list', '--format', 'csv'], asNobody());
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--format csv is the per-item report of jobs show/);
  }, 120_000);

  it('retry of a job a limit stopped does the failed, leaves the pending and says so', async () => {
    const src = makeSource('retry-stopped');
    const r = await runFiler(['copy', src, '--dest', destFor('retry-stopped'), '--apply', '--max-failures', '0'], asNobody());
    expect(r.code).toBe(3);
    const id = jobOf(r.stderr);
    makeReadable(src);
    const retried = await runFiler(['jobs', 'retry', id], asNobody());
    expect(retried.code, retried.stderr).toBe(0);
    const job = await show(id);
    expect(job.counts).toMatchObject({ failed: 0, done: 256, pending: BAD + GOOD - 256 });
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(new RegExp(`${BAD + GOOD - 256} actions are still pending: filer jobs resume ${id} carries them out`));
  }, 120_000);

  it('through --server, --max-failures and the csv report are refused (exit 2) before any request', async () => {
    // Nothing listens on port 1: a request would fail otherwise, and with another message.
    const server = ['--server', 'http://127.0.0.1:1', '--token', 't'];
    const copy = await runFiler([...server, 'copy', base, '--dest', path.join(base, 'x'), '--max-failures', '3']);
    expect(copy.code).toBe(2);
    expect(copy.stderr).toMatch(/--max-failures: --max-failures runs on this machine only/);
    const retry = await runFiler([...server, 'jobs', 'resume', 'abc', '--max-failures', '1%']);
    expect(retry.code).toBe(2);
    const csv = await runFiler([...server, 'jobs', 'show', 'abc', '--format', 'csv']);
    expect(csv.code).toBe(2);
    expect(csv.stderr).toMatch(/--format csv \(the per-item report\) is for this machine/);
  });
});
