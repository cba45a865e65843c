import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILER_BIN, noiseBytes, runFiler, runRclone, rcloneMd5Listing, md5Tree, startS3Server, type S3ServerHandle } from '@filer/testing';

/** `filer jobs resume|undo` of copy and move jobs that read or write S3, checked with rclone. */

let server: S3ServerHandle;
let work: string;
let env: Record<string, string>;

function makeTree(root: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const rel = `d${i % 9}/f-${i}.bin`;
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), noiseBytes(i % 11 === 0 ? 0 : 100 + ((i * 7919) % 5000), i));
  }
}

const jobIdOf = (stderr: string): string => {
  const m = /job (\S+): journaled/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return m![1];
};

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-jobs'] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3jobs-'));
  // The CLI's state (jobs, hash cache) in this test's own directory, never the user's.
  env = { ...server.env(), XDG_CACHE_HOME: path.join(work, 'cache') };
});

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('filer jobs undo and resume with S3', () => {
  it('undoes a copy local → S3 (the objects it wrote are deleted, the local tree untouched)', async () => {
    const src = path.join(work, 'copy-src');
    makeTree(src, 60);
    const before = md5Tree(src);
    const r = await runFiler(['copy', src, '--dest', 's3://filer-jobs/copied/', '--apply'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(await rcloneMd5Listing(server, 's3:filer-jobs/copied')).toEqual(before);
    const undo = await runFiler(['jobs', 'undo', jobIdOf(r.stderr)], { env });
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rcloneMd5Listing(server, 's3:filer-jobs/copied')).toEqual({});
    expect(md5Tree(src)).toEqual(before);
  });

  it('undoes a move S3 → local: the objects come back byte for byte, the local copies go', async () => {
    const seed = path.join(work, 'move-seed');
    makeTree(seed, 60);
    const up = await runRclone(server, ['copy', seed, 's3:filer-jobs/moving']);
    expect(up.code, up.stderr).toBe(0);
    const before = await rcloneMd5Listing(server, 's3:filer-jobs/moving');
    const dest = path.join(work, 'move-dest');
    const r = await runFiler(['move', 's3://filer-jobs/moving/', '--dest', dest, '--apply'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(await rcloneMd5Listing(server, 's3:filer-jobs/moving')).toEqual({});
    expect(md5Tree(dest)).toEqual(before);
    const undo = await runFiler(['jobs', 'undo', jobIdOf(r.stderr)], { env });
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rcloneMd5Listing(server, 's3:filer-jobs/moving')).toEqual(before);
    expect(md5Tree(dest)).toEqual({});
  });

  it('resumes a move local → S3 killed with SIGKILL mid-apply: every file in S3 once, none left locally; undo restores the tree', async () => {
    const src = path.join(work, 'kill-src');
    makeTree(src, 1500);
    const before = md5Tree(src);
    const total = Object.keys(before).length;
    // Counted without reading: files vanish while the move runs.
    const remaining = (): number => fs.readdirSync(src, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

    const child = spawn(process.execPath, [FILER_BIN, 'move', src, '--dest', 's3://filer-jobs/killed/', '--apply'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const exited = new Promise<string | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    let gone = false;
    void exited.then(() => (gone = true));
    // Kill once a tenth of the sources are gone: the job is then mid-apply, uploads in flight.
    while (!gone && total - remaining() < total / 10) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    expect(await exited, `the move finished before it could be killed: ${stderr}`).toBe('SIGKILL');
    const id = jobIdOf(stderr);
    const left = remaining();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(total);

    const resume = await runFiler(['jobs', 'resume', id], { env, timeoutMs: 120_000 });
    expect(resume.code, resume.stderr).toBe(0);
    expect(await rcloneMd5Listing(server, 's3:filer-jobs/killed')).toEqual(before);
    expect(md5Tree(src)).toEqual({});

    const undo = await runFiler(['jobs', 'undo', id], { env, timeoutMs: 120_000 });
    expect(undo.code, undo.stderr).toBe(0);
    expect(md5Tree(src)).toEqual(before);
    expect(await rcloneMd5Listing(server, 's3:filer-jobs/killed')).toEqual({});
  }, 180_000);
});
