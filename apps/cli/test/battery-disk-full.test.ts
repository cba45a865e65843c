import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listJobIds,
  runFiler,
  showJob,
  TmpfsMounts,
  treeManifest,
  writeSeededTree,
  type ManifestEntry,
  type ProcessResult,
} from '@filer/testing';

/**
 * Battery item 6, disk full and inode exhaustion: the destination is a tmpfs of 64 MiB (about
 * 100 MiB of mixed files to copy), then a tmpfs of 600 inodes (1,000 files of 1 KiB).
 * - The free-space check (statfs: bytes, and inodes) refuses the job before anything is written,
 *   with an ENOSPC-class message, exit 3.
 * - With the check bypassed (--no-space-check), the job stops at the first ENOSPC, exit 3: every
 *   file under a final name is byte-identical to its source, no temporary file is left, the
 *   source tree is intact (a move: every file at exactly one place).
 * - Once the file system is grown (`mount -o remount,size=…,nr_inodes=…`), `filer jobs resume`
 *   completes and the destination's manifest equals the source's.
 */

const MiB = 1 << 20;
let base: string;
const mounts = new TmpfsMounts();
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-battery-06-'));
});
afterAll(() => {
  try {
    mounts.unmountAll();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

const filer = (args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> => runFiler(args, { env, timeoutMs: 120_000 });
const lines = (r: ProcessResult): string[] => r.stderr.split('\n').filter((l) => l !== '');
const sumSizes = (m: Map<string, ManifestEntry>): number => [...m.values()].reduce((n, e) => n + e.size, 0);

/** A tree of 1 KiB files, each with its own bytes. */
function smallFiles(root: string, n: number, dirs: number): void {
  for (let i = 0; i < n; i++) {
    const file = path.join(root, `s${i % dirs}`, `f${String(i).padStart(4, '0')}.txt`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.alloc(1024, `${i}:`));
  }
}

/** The stopped job: exit 3, per-file ENOSPC lines, the counts, then why it stopped and what to do. */
async function expectStoppedAtFullDisk(r: ProcessResult, env: NodeJS.ProcessEnv): Promise<{ id: string; done: number; pending: number }> {
  expect(r.code, r.stderr).toBe(3);
  const [id] = await listJobIds({ env });
  const { job, actions } = await showJob(id, { env });
  expect(job.state).toBe('failed');
  const failed = actions.filter((a) => a.state === 'failed');
  expect(failed.length).toBeGreaterThan(0);
  expect(failed.filter((a) => !/^ENOSPC: no space left on device/.test(a.reason ?? ''))).toEqual([]);
  const done = actions.filter((a) => a.state === 'done').length;
  const pending = actions.filter((a) => a.state === 'pending').length;
  expect(done + failed.length + pending).toBe(actions.length);
  const out = lines(r);
  expect(out.slice(-2)).toEqual([
    `filer: job ${id} failed: ${done} done, 0 undone, ${failed.length} failed, 0 skipped, ${pending} pending`,
    expect.stringMatching(
      new RegExp(
        `^filer: disk full while copying .*: the job stopped; ${pending} files were not attempted \\(resume after freeing space\\)$`,
      ),
    ),
  ]);
  expect(job.reason).toBe(out[out.length - 1].slice('filer: '.length));
  return { id, done, pending };
}

describe('battery 6: a full disk', () => {
  it(
    'bytes: 100 MiB onto 64 MiB — refused before any write; with --no-space-check stopped cleanly; resumed after growing it',
    { timeout: 240_000 },
    async () => {
      const dir = fs.mkdtempSync(path.join(base, 'bytes-'));
      const src = path.join(dir, 'src');
      const before = writeSeededTree(src, { files: 350, dirs: 6, maxSize: 4 * MiB, seed: 6 });
      const total = sumSizes(before);
      expect(total).toBeGreaterThan(90 * MiB);
      expect(total).toBeLessThan(130 * MiB);
      const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };

      for (const kind of ['copy', 'move'] as const) {
        const mnt = mounts.mount(base, 'size=64m');
        const dest = path.join(mnt, 'out');
        // The check: nothing is written, not even --dest.
        const refused = await filer([kind, src, '--dest', dest, '--apply'], env);
        expect(refused.code, refused.stderr).toBe(3);
        expect(lines(refused)[2]).toMatch(
          new RegExp(`^filer: not enough free space: ${total} bytes to copy, ${64 * MiB} available at ${dest}/d000 \\[ENOSPC\\]$`),
        );
        expect(fs.readdirSync(mnt)).toEqual([]);
        expect(treeManifest(src).files).toEqual(before);

        // Bypassed: the job runs into the full disk and stops there.
        const r = await filer([kind, src, '--dest', dest, '--apply', '--no-space-check'], env);
        const { id, done } = await expectStoppedAtFullDisk(r, env);
        expect(done).toBeGreaterThan(0);
        const atDest = treeManifest(dest);
        expect(atDest.temps).toEqual([]);
        for (const [rel, e] of atDest.files) expect(e, `${rel} at the destination`).toEqual(before.get(rel));
        expect(atDest.files.size).toBe(done);
        const atSrc = treeManifest(src);
        if (kind === 'copy') expect(atSrc.files).toEqual(before);
        else {
          // Every file at exactly one place, whole.
          for (const [rel, e] of atSrc.files) expect(e, `${rel} at the source`).toEqual(before.get(rel));
          expect([...atSrc.files.keys(), ...atDest.files.keys()].sort()).toEqual([...before.keys()].sort());
        }

        // Grown, the same job finishes: the destination is the source as it was.
        mounts.remount(mnt, 'size=256m');
        const again = await filer(['jobs', 'resume', id], env);
        expect(again.stderr).toBe(`filer: job ${id} completed: ${before.size} done, 0 undone, 0 failed, 0 skipped, 0 pending\n`);
        expect(again.code).toBe(0);
        const final = treeManifest(dest);
        expect(final.temps).toEqual([]);
        expect(final.files).toEqual(before);
        expect(treeManifest(src).files).toEqual(kind === 'copy' ? before : new Map());
      }
    },
  );

  it(
    'inodes: 1,000 files onto 600 inodes — refused before any write; with --no-space-check stopped at the first ENOSPC; resumed',
    { timeout: 240_000 },
    async () => {
      const dir = fs.mkdtempSync(path.join(base, 'inodes-'));
      const src = path.join(dir, 'src');
      smallFiles(src, 1000, 10);
      const before = treeManifest(src).files;
      const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
      const mnt = mounts.mount(base, 'size=64m,nr_inodes=600');
      const dest = path.join(mnt, 'out');
      const freeInodes = fs.statfsSync(mnt).ffree;

      const refused = await filer(['copy', src, '--dest', dest, '--apply'], env);
      expect(refused.code, refused.stderr).toBe(3);
      expect(lines(refused)[2]).toBe(
        `filer: not enough free inodes: 1000 files and 11 directories to create, ${freeInodes} inodes available at ${dest}/s0 [ENOSPC]`,
      );
      expect(fs.readdirSync(mnt)).toEqual([]);

      const r = await filer(['copy', src, '--dest', dest, '--apply', '--no-space-check'], env);
      const { id, done, pending } = await expectStoppedAtFullDisk(r, env);
      // It stopped: the batches after the one that met the full disk were not attempted.
      expect(pending).toBeGreaterThan(0);
      expect(done).toBeLessThan(600);
      const atDest = treeManifest(dest);
      expect(atDest.temps).toEqual([]);
      expect(atDest.files.size).toBe(done);
      for (const [rel, e] of atDest.files) expect(e, `${rel} at the destination`).toEqual(before.get(rel));
      expect(treeManifest(src).files).toEqual(before);

      mounts.remount(mnt, 'nr_inodes=4000');
      const again = await filer(['jobs', 'resume', id], env);
      expect(again.stderr).toBe(`filer: job ${id} completed: 1000 done, 0 undone, 0 failed, 0 skipped, 0 pending\n`);
      expect(again.code).toBe(0);
      const final = treeManifest(dest);
      expect(final.temps).toEqual([]);
      expect(final.files).toEqual(before);
    },
  );
});
