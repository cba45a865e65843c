import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  noiseBytes,
  rcloneMd5Listing,
  runFiler,
  runRclone,
  startFaultProxy,
  startS3Server,
  uploadWithRclone,
  type S3ServerHandle,
} from '@filer/testing';

/**
 * `filer dupes s3://… --action remove|move-to` against s3rver, checked with rclone (an independent
 * client): plan, apply (copies gone, quarantined objects with the same bytes), the walk skipping the
 * quarantine, undo (every object back, byte for byte), purge, resume after SIGKILL, E_CHANGED for an
 * object overwritten between journal and apply, and the actions S3 cannot do refused.
 */

let server: S3ServerHandle;
let work: string;
let env: Record<string, string>;
let bucketN = 0;

beforeAll(async () => {
  server = await startS3Server();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3dedupe-'));
  env = { ...server.env(), XDG_CACHE_HOME: path.join(work, 'cache') };
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const jobIdOf = (stderr: string): string => {
  const m = /job (\S+): journaled/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return m![1];
};

/**
 * A new bucket holding three groups in two prefixes (kept: the first path in order, by
 * `--keep first-root` then path), 3 MB objects among them, and unique objects.
 */
async function seed(): Promise<{ bucket: string; before: Record<string, string> }> {
  const bucket = `dedupe-${++bucketN}`;
  server.createBucket(bucket);
  const dir = path.join(work, bucket);
  const put = (rel: string, data: Buffer): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  };
  for (const [g, size] of [5_000, 70_000, 3_000_000].entries()) {
    const data = noiseBytes(size, 100 + g);
    put(`a/g${g}/kept.bin`, data);
    put(`a/g${g}/z-copy.bin`, data);
    put(`b/g${g}/copy.bin`, data);
  }
  put('b/unique.bin', noiseBytes(5_000, 999));
  put('a/other.bin', noiseBytes(70_000, 998));
  await uploadWithRclone(server, dir, `s3:${bucket}/`, { check: true });
  return { bucket, before: await rcloneMd5Listing(server, `s3:${bucket}`) };
}

const COPIES = [0, 1, 2].flatMap((g) => [`a/g${g}/z-copy.bin`, `b/g${g}/copy.bin`]);

describe('filer dupes s3://… --action remove', () => {
  it('plans, applies into the bucket quarantine, is not found again, undoes byte for byte, and purges', async () => {
    const { bucket, before } = await seed();
    const roots = [`s3://${bucket}/a/`, `s3://${bucket}/b/`];
    const plan = await runFiler(['dupes', ...roots, '--action', 'remove'], { env });
    expect(plan.code, plan.stderr).toBe(0);
    for (const c of COPIES) expect(plan.stdout).toContain(`  remove   s3://${bucket}/${c}`);
    expect(plan.stdout).toContain('plan: 6 copies in 3 groups to remove');
    expect(await rcloneMd5Listing(server, `s3:${bucket}`)).toEqual(before);

    const r = await runFiler(['dupes', ...roots, '--action', 'remove', '--apply'], { env });
    expect(r.code, r.stderr).toBe(0);
    const id = jobIdOf(r.stderr);
    const after = await rcloneMd5Listing(server, `s3:${bucket}`);
    const expected = { ...before };
    for (const c of COPIES) {
      delete expected[c];
      expected[`.filer-quarantine/${id}/${c}`] = before[c];
    }
    expect(after).toEqual(expected);

    // The whole bucket walked again, hidden keys too: the quarantine is skipped, so no duplicates are left.
    const again = await runFiler(['dupes', `s3://${bucket}/`, '--hidden', '--format', 'ndjson'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('');

    const undo = await runFiler(['jobs', 'undo', id], { env });
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stderr).toContain(`job ${id} undone`);
    expect(await rcloneMd5Listing(server, `s3:${bucket}`)).toEqual(before);

    const r2 = await runFiler(['dupes', ...roots, '--action', 'remove', '--apply'], { env });
    expect(r2.code, r2.stderr).toBe(0);
    const id2 = jobIdOf(r2.stderr);
    const purge = await runFiler(['jobs', 'purge', id2], { env });
    expect(purge.code, purge.stderr).toBe(0);
    expect(purge.stderr).toContain(`job ${id2} purged: 6 quarantined copies deleted`);
    const left = { ...before };
    for (const c of COPIES) delete left[c];
    expect(await rcloneMd5Listing(server, `s3:${bucket}`)).toEqual(left);
    const undoPurged = await runFiler(['jobs', 'undo', id2], { env });
    expect(undoPurged.code).toBe(2);
    expect(undoPurged.stderr).toContain('had its quarantine purged');
  });

  it('killed after its first copies are quarantined (before a delete), resume finishes it and undo restores all', async () => {
    const { bucket, before } = await seed();
    const roots = [`s3://${bucket}/a/`, `s3://${bucket}/b/`];
    for (const fault of ['after-link:2', 'before-unlink:3', 'after-unlink:4']) {
      const r = await runFiler(['dupes', ...roots, '--action', 'remove', '--apply'], { env: { ...env, FILER_FAULT: fault } });
      expect(r.signal, `${fault}: ${r.stderr}`).toBe('SIGKILL');
      const id = jobIdOf(r.stderr);
      const resumed = await runFiler(['jobs', 'resume', id], { env });
      expect(resumed.stderr).toContain(`job ${id} completed: 6 done, 0 undone, 0 failed, 0 skipped, 0 pending`);
      const after = await rcloneMd5Listing(server, `s3:${bucket}`);
      for (const c of COPIES) {
        expect(after[c], `${fault}: ${c}`).toBeUndefined();
        expect(after[`.filer-quarantine/${id}/${c}`]).toBe(before[c]);
      }
      const undo = await runFiler(['jobs', 'undo', id], { env });
      expect(undo.code, undo.stderr).toBe(0);
      expect(await rcloneMd5Listing(server, `s3:${bucket}`)).toEqual(before);
    }
  });

  it('a copy overwritten (same size) or a kept object replaced between journal and apply is E_CHANGED and left as it is', async () => {
    const { bucket, before } = await seed();
    const roots = [`s3://${bucket}/a/`, `s3://${bucket}/b/`];
    const r = await runFiler(['dupes', ...roots, '--action', 'remove', '--apply'], { env: { ...env, FILER_FAULT: 'after-journal:1' } });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const id = jobIdOf(r.stderr);
    const other = path.join(work, `${bucket}-other`);
    fs.writeFileSync(other, noiseBytes(70_000, 4242));
    expect((await runRclone(server, ['copyto', other, `s3:${bucket}/b/g1/copy.bin`])).code).toBe(0);
    expect((await runRclone(server, ['copyto', other, `s3:${bucket}/a/g0/kept.bin`])).code).toBe(0);
    const overwritten = await rcloneMd5Listing(server, `s3:${bucket}`);
    const resumed = await runFiler(['jobs', 'resume', id], { env });
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(`E_CHANGED: the copy s3://${bucket}/b/g1/copy.bin changed since it was planned`);
    expect(resumed.stderr).toContain(`E_CHANGED: the kept object s3://${bucket}/a/g0/kept.bin changed since it was planned`);
    expect(resumed.stderr).toContain('3 done, 0 undone, 3 failed');
    const after = await rcloneMd5Listing(server, `s3:${bucket}`);
    for (const c of ['a/g0/z-copy.bin', 'b/g0/copy.bin', 'b/g1/copy.bin', 'a/g0/kept.bin']) expect(after[c]).toBe(overwritten[c]);
    for (const c of ['a/g1/z-copy.bin', 'a/g2/z-copy.bin', 'b/g2/copy.bin']) {
      expect(after[c]).toBeUndefined();
      expect(after[`.filer-quarantine/${id}/${c}`]).toBe(before[c]);
    }
    expect(Object.keys(after).filter((k) => k.startsWith('.filer-quarantine/'))).toHaveLength(3);
  });
});

describe('conditions and strangers', () => {
  it('every copy is a CopyObject carrying copy-source-if-match, every delete an If-Match, with the planned ETag (seen by a proxy)', async () => {
    const { bucket, before } = await seed();
    const proxy = await startFaultProxy({ target: server.endpoint, failRate: 0 });
    try {
      const r = await runFiler(['dupes', `s3://${bucket}/a/`, `s3://${bucket}/b/`, '--action', 'remove', '--apply'], {
        env: { ...env, ...server.env(proxy.endpoint) },
      });
      expect(r.code, r.stderr).toBe(0);
      const copies = proxy.log.filter((q) => q.method === 'PUT' && q.headers['x-amz-copy-source'] !== undefined);
      const deletes = proxy.log.filter((q) => q.method === 'DELETE' && !q.url.includes('.filer-probe-'));
      expect(copies).toHaveLength(6);
      expect(deletes).toHaveLength(6);
      for (const c of COPIES) {
        const etag = `"${before[c]}"`;
        const key = encodeURI(`/${bucket}/${c}`);
        expect(copies.find((q) => q.headers['x-amz-copy-source'] === key.slice(1))?.headers['x-amz-copy-source-if-match']).toBe(etag);
        expect(deletes.find((q) => q.url.startsWith(key))?.headers['if-match']).toBe(etag);
      }
    } finally {
      await proxy.stop();
    }
  });

  it('undo leaves an object that took a copy’s key meanwhile, and its quarantined copy; the rest come back', async () => {
    const { bucket, before } = await seed();
    const r = await runFiler(['dupes', `s3://${bucket}/a/`, `s3://${bucket}/b/`, '--action', 'remove', '--apply'], { env });
    expect(r.code, r.stderr).toBe(0);
    const id = jobIdOf(r.stderr);
    const stranger = path.join(work, `${bucket}-stranger`);
    fs.writeFileSync(stranger, 'someone else wrote this key\n');
    expect((await runRclone(server, ['copyto', stranger, `s3:${bucket}/b/g2/copy.bin`])).code).toBe(0);
    const undo = await runFiler(['jobs', 'undo', id], { env });
    expect(undo.code).toBe(1);
    expect(undo.stderr).toContain(`something else now stands at s3://${bucket}/b/g2/copy.bin; not overwritten`);
    const after = await rcloneMd5Listing(server, `s3:${bucket}`);
    const expected = {
      ...before,
      'b/g2/copy.bin': after['b/g2/copy.bin'],
      [`.filer-quarantine/${id}/b/g2/copy.bin`]: before['b/g2/copy.bin'],
    };
    expect(after['b/g2/copy.bin']).not.toBe(before['b/g2/copy.bin']);
    expect(after).toEqual(expected);
  });
});

describe('a copy changed after its object was copied', () => {
  it('killed once the copies are placed (after-commit), a copy overwritten: resume leaves it, removes its stale copy, does the rest', async () => {
    const { bucket, before } = await seed();
    const roots = [`s3://${bucket}/a/`, `s3://${bucket}/b/`];
    const r = await runFiler(['dupes', ...roots, '--action', 'remove', '--apply'], { env: { ...env, FILER_FAULT: 'after-commit:1' } });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const id = jobIdOf(r.stderr);
    expect(Object.keys(await rcloneMd5Listing(server, `s3:${bucket}/.filer-quarantine/${id}`))).toHaveLength(6);
    const other = path.join(work, `${bucket}-late`);
    fs.writeFileSync(other, noiseBytes(70_000, 4343));
    expect((await runRclone(server, ['copyto', other, `s3:${bucket}/b/g1/copy.bin`])).code).toBe(0);
    const late = (await rcloneMd5Listing(server, `s3:${bucket}`))['b/g1/copy.bin'];
    const resumed = await runFiler(['jobs', 'resume', id], { env });
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(
      `E_CHANGED: s3://${bucket}/b/g1/copy.bin changed since it was copied to s3://${bucket}/.filer-quarantine/${id}/b/g1/copy.bin; left as it is, that copy removed`,
    );
    expect(resumed.stderr).toContain('5 done, 0 undone, 1 failed');
    const after = await rcloneMd5Listing(server, `s3:${bucket}`);
    expect(after['b/g1/copy.bin']).toBe(late);
    expect(after[`.filer-quarantine/${id}/b/g1/copy.bin`]).toBeUndefined();
    const undo = await runFiler(['jobs', 'undo', id], { env });
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rcloneMd5Listing(server, `s3:${bucket}`)).toEqual({ ...before, 'b/g1/copy.bin': late });
  });
});

describe('filer dupes s3://… --action move-to s3://…', () => {
  it('moves the copies under the prefix (path below their root kept) and undo moves them back', async () => {
    const { bucket, before } = await seed();
    const roots = [`s3://${bucket}/a/`, `s3://${bucket}/b/`];
    const r = await runFiler(['dupes', ...roots, '--action', 'move-to', '--move-to', `s3://${bucket}/moved/`, '--apply'], { env });
    expect(r.code, r.stderr).toBe(0);
    const expected = { ...before };
    for (const c of COPIES) {
      delete expected[c];
      expected[`moved/${c.slice(2)}`] = before[c];
    }
    expect(await rcloneMd5Listing(server, `s3:${bucket}`)).toEqual(expected);
    const undo = await runFiler(['jobs', 'undo', jobIdOf(r.stderr)], { env });
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rcloneMd5Listing(server, `s3:${bucket}`)).toEqual(before);
  });
});

describe('which objects are acted on', () => {
  it('--reference (its trailing slash optional): objects under it are kept and never acted on', async () => {
    const { bucket } = await seed();
    const r = await runFiler(['dupes', `s3://${bucket}/a/`, `s3://${bucket}/b/`, '--reference', `s3://${bucket}/b`, '--action', 'remove'], {
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    for (let g = 0; g < 3; g++) {
      expect(r.stdout).toContain(`keep s3://${bucket}/b/g${g}/copy.bin`);
      expect(r.stdout).toContain(`  remove   s3://${bucket}/a/g${g}/kept.bin`);
    }
    expect(r.stdout).toContain('plan: 6 copies in 3 groups to remove');
  });
});

describe('what S3 cannot do is refused before anything runs', () => {
  it('hardlink, symlink and reflink name the action and the root; a local --move-to and mixed roots are refused', async () => {
    const { bucket, before } = await seed();
    const root = `s3://${bucket}/a/`;
    for (const action of ['hardlink', 'symlink', 'reflink']) {
      const r = await runFiler(['dupes', root, '--action', action, '--apply'], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--action ${action} needs files that can be linked; '${root}' is on S3, where an object has no links`);
    }
    const local = fs.mkdtempSync(path.join(work, 'local-'));
    const toLocal = await runFiler(['dupes', root, '--action', 'move-to', '--move-to', local, '--apply'], { env });
    expect(toLocal.code).toBe(2);
    expect(toLocal.stderr).toContain(`--move-to ${local} is local but the roots are on S3`);
    const mixed = await runFiler(['dupes', root, local, '--action', 'remove', '--apply'], { env });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('cannot mix local and S3 roots');
    expect(await rcloneMd5Listing(server, `s3:${bucket}`)).toEqual(before);
    expect(fs.readdirSync(local)).toEqual([]);
  });
});
