import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJobIds, runFiler, sha256File, showJob, TmpfsMounts, treeManifest, writeSeededTree } from '@filer/testing';

/**
 * Battery item 5, a target appears between plan and apply: filer is killed right after the plan
 * is journaled (FILER_FAULT=after-journal), someone creates DST/x.jpg with other content, then
 * `filer jobs resume` runs. The intruder's bytes are untouched, x.jpg is reported failed
 * ("target exists (not overwritten)", exit 1) and its source stays where it was; every other
 * file is moved (or copied) byte for byte. On one device and across devices (a tmpfs); also
 * with --on-conflict overwrite, which overwrites only the targets the plan saw.
 */

let base: string;
const mounts = new TmpfsMounts();
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-battery-05-'));
});
afterAll(() => {
  try {
    mounts.unmountAll();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

const INTRUDER = Buffer.from('someone else wrote this x.jpg after the plan');

interface Mode {
  kind: 'copy' | 'move';
  cross: boolean;
  policy: 'fail' | 'overwrite';
}

const MODES: Mode[] = [
  { kind: 'move', cross: false, policy: 'fail' },
  { kind: 'move', cross: true, policy: 'fail' },
  { kind: 'copy', cross: true, policy: 'fail' },
  { kind: 'move', cross: false, policy: 'overwrite' },
];

describe('battery 5: a target that appears between the plan and the apply is never overwritten', () => {
  for (const { kind, cross, policy } of MODES) {
    it(`${kind}${cross ? ' across devices' : ' on one device'}, --on-conflict ${policy}`, async () => {
      const dir = fs.mkdtempSync(path.join(base, `${kind}-`));
      const src = path.join(dir, 'src');
      const dest = path.join(cross ? mounts.mount(base, 'size=64m') : dir, 'dest');
      const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
      const before = writeSeededTree(src, { files: 40, dirs: 4, maxSize: 256 * 1024, seed: 5 });
      fs.writeFileSync(path.join(src, 'x.jpg'), 'the planned x.jpg');
      const xHash = sha256File(path.join(src, 'x.jpg'));

      const killed = await runFiler([kind, src, '--dest', dest, '--apply', '--on-conflict', policy], {
        env: { ...env, FILER_FAULT: 'after-journal:1' },
      });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(fs.existsSync(dest)).toBe(false);
      fs.mkdirSync(dest);
      fs.writeFileSync(path.join(dest, 'x.jpg'), INTRUDER);
      const intruderHash = sha256File(path.join(dest, 'x.jpg'));

      const [id] = await listJobIds({ env });
      const r = await runFiler(['jobs', 'resume', id], { env, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`filer: ${path.join(src, 'x.jpg')} → ${path.join(dest, 'x.jpg')}: target exists (not overwritten)\n`);
      expect(r.stderr).toContain(`filer: job ${id} failed: ${before.size} done, 0 undone, 1 failed, 0 skipped, 0 pending\n`);

      // The intruder is untouched, x.jpg's source is where it was, everything else arrived.
      expect(sha256File(path.join(dest, 'x.jpg'))).toBe(intruderHash);
      expect(sha256File(path.join(src, 'x.jpg'))).toBe(xHash);
      const atDest = treeManifest(dest);
      expect(atDest.temps).toEqual([]);
      expect(atDest.files).toEqual(new Map([...before, ['x.jpg', { size: INTRUDER.length, sha256: intruderHash }]]));
      const atSrc = treeManifest(src);
      expect(atSrc.files).toEqual(
        kind === 'move' ? new Map([['x.jpg', { size: 17, sha256: xHash }]]) : new Map([...before, ['x.jpg', { size: 17, sha256: xHash }]]),
      );

      const { job, actions } = await showJob(id, { env });
      expect(job).toMatchObject({ state: 'failed', counts: { done: before.size, failed: 1, pending: 0 } });
      expect(actions.filter((a) => a.state !== 'done')).toEqual([
        expect.objectContaining({ source: path.join(src, 'x.jpg'), state: 'failed', reason: 'target exists (not overwritten)' }),
      ]);
    });
  }
});
