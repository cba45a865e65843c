import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listJobIds,
  md5Tree,
  rcloneMd5Listing,
  runFiler,
  runProcess,
  showJob,
  startS3Server,
  startStubS3,
  uploadWithRclone,
  type S3ServerHandle,
  type StubS3,
} from '@filer/testing';

/**
 * `filer rename s3://bucket/prefix/`: each key renamed below its own prefix by a server-side copy
 * and a verified delete, journaled with the objects' identities (size, LastModified, ETag);
 * conflicts refused as on disk, `jobs undo` restoring every key, a kill mid-apply resumed. Trees
 * are read back with rclone (an independent client); s3rver on loopback, and a stub endpoint for
 * keys s3rver cannot hold and for a fixed LastModified.
 */

const BUCKET = 'filer-rename';

/** The smallest valid JPEG (1×1): exiftool writes EXIF into a copy of it. */
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);

let server: S3ServerHandle;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3rename-'));
  env = { ...server.env(), XDG_CACHE_HOME: path.join(work, 'cache'), TZ: 'UTC' };
});

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const filer = (args: string[], extra: Record<string, string> = {}) => runFiler(args, { env: { ...env, ...extra }, timeoutMs: 120_000 });

/** Writes `files` (relative path → content) under a fresh local dir and uploads it to `s3://BUCKET/prefix/`; returns the tree's MD5s. */
async function seed(prefix: string, files: Record<string, string | Buffer>): Promise<Record<string, string>> {
  const dir = path.join(work, 'seed', prefix);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  await uploadWithRclone(server, dir, `s3:${BUCKET}/${prefix}`, { check: true });
  return md5Tree(dir);
}

const listing = (prefix: string): Promise<Record<string, string>> => rcloneMd5Listing(server, `s3:${BUCKET}/${prefix}`);

/** `tree` with each key renamed by `rename` (relative key → new relative key), contents kept. */
const renamedTree = (tree: Record<string, string>, rename: (rel: string) => string): Record<string, string> =>
  Object.fromEntries(Object.entries(tree).map(([rel, md5]) => [rename(rel), md5]));

/** `{stem}-{size}{ext}` applied to a relative key whose content is `size` bytes. */
const withSize = (files: Record<string, string>) => (rel: string) => {
  const ext = path.extname(rel);
  return path.join(path.dirname(rel), `${path.basename(rel, ext)}-${Buffer.byteLength(files[rel])}${ext}`);
};

describe('filer rename on S3', () => {
  it('renames keys below their prefix (copy + verified delete), journals identities, and jobs undo restores every key', async () => {
    const files = { 'x/a.txt': 'alpha', 'x/b.txt': 'bravo!', 'y/deep/c.log': 'charlie', 'd.md': 'delta delta' };
    const original = await seed('apply', files);
    const plan = await filer(['rename', `s3://${BUCKET}/apply/`, '--to', '{stem}-{size}{ext}', '--format', 'ndjson']);
    expect(plan.code, plan.stderr).toBe(0);
    // The plan changes nothing.
    expect(await listing('apply')).toEqual(original);
    const lines = plan.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; source: string; target: string });
    expect(lines.filter((l) => l.action === 'rename').map((l) => [l.source, l.target])).toEqual(
      Object.keys(files)
        .sort()
        .map((rel) => [`s3://${BUCKET}/apply/${rel}`, `s3://${BUCKET}/apply/${withSize(files)(rel)}`]),
    );

    const applied = await filer(['rename', `s3://${BUCKET}/apply/`, '--to', '{stem}-{size}{ext}', '--apply']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await listing('apply')).toEqual(renamedTree(original, withSize(files)));

    const [id] = await listJobIds({ env });
    const { job, actions } = await showJob(id, { env });
    expect(job).toMatchObject({ kind: 'rename', state: 'completed' });
    expect(actions).toHaveLength(4);
    for (const a of actions) {
      expect(a.state).toBe('done');
      // The object's identity as listed: size, LastModified, ETag (s3rver's is the content MD5).
      const rel = a.source.slice(`s3://${BUCKET}/apply/`.length);
      expect(a.sourceId).toMatchObject({ size: Buffer.byteLength(files[rel as keyof typeof files]), etag: original[rel] });
      expect(a.targetId).toMatchObject({ etag: original[rel] });
    }

    const undo = await filer(['jobs', 'undo', id]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await listing('apply')).toEqual(original);
  }, 120_000);

  it('refuses a target that exists (nothing changed); --on-conflict suffix names it beside; never overwrites', async () => {
    const original = await seed('conflict', { 'p/a.txt': 'one', 'p/b.txt': 'two', 'p/c.txt': 'three' });
    // a.txt → b.txt, which exists and stays where it is.
    const refused = await filer(['rename', `s3://${BUCKET}/conflict/`, '--replace', '^a', '--with', 'b', '--apply']);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(
      /CONFLICT target-exists: s3:\/\/filer-rename\/conflict\/p\/a\.txt → s3:\/\/filer-rename\/conflict\/p\/b\.txt/,
    );
    expect(refused.stderr).toContain('nothing was changed');
    expect(await listing('conflict')).toEqual(original);

    const suffixed = await filer([
      'rename',
      `s3://${BUCKET}/conflict/`,
      '--replace',
      '^a',
      '--with',
      'b',
      '--on-conflict',
      'suffix',
      '--apply',
    ]);
    expect(suffixed.code, suffixed.stderr).toBe(0);
    expect(await listing('conflict')).toEqual({
      'p/b (1).txt': original['p/a.txt'],
      'p/b.txt': original['p/b.txt'],
      'p/c.txt': original['p/c.txt'],
    });

    const overwrite = await filer(['rename', `s3://${BUCKET}/conflict/`, '--replace', '^c', '--with', 'b', '--on-conflict', 'overwrite']);
    expect(overwrite.code).toBe(2);
    expect(overwrite.stderr).toMatch(/'overwrite' is invalid\. Allowed choices are fail, skip, suffix/);
  }, 120_000);

  it('refuses a template whose result leaves the key prefix (.., /, an absolute name), changing nothing', async () => {
    const original = await seed('escape', { 'in/a.txt': 'a', 'in/b.txt': 'b' });
    for (const flags of [
      ['--to', '../{name}'],
      ['--to', '{stem}/../../../out{ext}'],
      ['--to', '/{name}'],
      ['--replace', '^', '--with', '../'],
    ]) {
      const r = await filer(['rename', `s3://${BUCKET}/escape/in/`, ...flags, '--apply']);
      expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stdout, flags.join(' ')).toMatch(/CONFLICT (invalid-name|outside-root)/);
      expect(await listing('escape'), flags.join(' ')).toEqual(original);
    }
    // A subdirectory in the template stays below the prefix: allowed, as on disk.
    const sub = await filer(['rename', `s3://${BUCKET}/escape/in/`, '--to', 'sub/{name}', '--apply']);
    expect(sub.code, sub.stderr).toBe(0);
    expect(await listing('escape')).toEqual({ 'in/sub/a.txt': original['in/a.txt'], 'in/sub/b.txt': original['in/b.txt'] });
  }, 120_000);

  it('resumes a rename SIGKILLed mid-apply (after some deletes), then undoes it', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 24 }, (_, i) => [`k/${String(i).padStart(2, '0')}.txt`, `object ${i} `.repeat(i + 1)]),
    );
    const original = await seed('killed', files);
    const args = ['rename', `s3://${BUCKET}/killed/`, '--to', '{stem}-{size}{ext}', '--apply'];
    const killed = await filer(args, { FILER_FAULT: 'after-unlink:7' });
    expect(killed.signal, `not killed: exit ${killed.code} ${killed.stderr}`).toBe('SIGKILL');
    // Copies are made a batch at a time, then their sources deleted: killed in between, every
    // object is under its old name, its new one or both, with its content, and under no other.
    const mid = await listing('killed');
    const renamed = renamedTree(original, withSize(files));
    for (const rel of Object.keys(original))
      expect(mid[rel] === original[rel] || mid[withSize(files)(rel)] === original[rel], rel).toBe(true);
    for (const [key, md5] of Object.entries(mid)) expect(original[key] === md5 || renamed[key] === md5, key).toBe(true);
    expect(Object.keys(mid).filter((k) => k in original).length).toBeLessThan(24);

    const [id] = await listJobIds({ env });
    const resumed = await filer(['jobs', 'resume', id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await listing('killed')).toEqual(renamed);

    const undo = await filer(['jobs', 'undo', id]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await listing('killed')).toEqual(original);
  }, 180_000);
});

describe('filer rename on S3: dates and hostile keys (stub endpoint)', () => {
  let stub: StubS3;
  let jpeg: Buffer;
  beforeAll(async () => {
    const file = path.join(work, 'photo.jpg');
    fs.writeFileSync(file, JPEG);
    const r = await runProcess('exiftool', ['-overwrite_original', '-DateTimeOriginal=2021:03:04 05:06:07', file]);
    expect(r.code, r.stderr).toBe(0);
    jpeg = fs.readFileSync(file);
    stub = await startStubS3({
      media: { 'cam/photo.jpg': jpeg, 'cam/notes.txt': Buffer.from('no exif here'), 'cam/empty.txt': Buffer.alloc(0) },
      hostile: { 'ok/one.txt': Buffer.from('one'), 'a/../../escape.txt': Buffer.from('escape'), 'b//c.txt': Buffer.from('empty') },
    });
  });
  afterAll(async () => stub?.stop());

  const stubFiler = (args: string[]) =>
    runFiler(args, { env: { ...stub.env(), XDG_CACHE_HOME: path.join(work, 'stub-cache'), TZ: 'UTC' }, timeoutMs: 60_000 });

  it('takes {date} from EXIF read with a ranged GET, else from LastModified, and says which', async () => {
    const r = await stubFiler(['rename', 's3://media/cam/', '--to', '{date:YYYY-MM-DD_HHmmss}_{name}', '--format', 'ndjson']);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; target: string; dateSource: string })
      .filter((l) => l.action === 'rename');
    // The stub's LastModified is 2026-01-02T03:04:05Z for every object.
    expect(plan.map((p) => [p.target, p.dateSource])).toEqual([
      ['s3://media/cam/2026-01-02_030405_empty.txt', 'LastModified'],
      ['s3://media/cam/2026-01-02_030405_notes.txt', 'LastModified'],
      ['s3://media/cam/2021-03-04_050607_photo.jpg', 'DateTimeOriginal'],
    ]);
    // Reading dates writes nothing.
    expect(stub.requests.filter((q) => q.bucket === 'media' && q.method !== 'GET' && q.method !== 'HEAD')).toEqual([]);
  });

  it('fails an unsafe key alone (E_UNSAFE_KEY, exit 1) and renames the rest', async () => {
    const r = await stubFiler(['rename', 's3://hostile/', '--to', 'new-{name}', '--apply']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.endsWith('[E_UNSAFE_KEY]'))).toHaveLength(2);
    expect([...stub.objects.get('hostile')!.keys()].sort()).toEqual(['a/../../escape.txt', 'b//c.txt', 'ok/new-one.txt']);
  });
});
