import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  md5Tree,
  rcloneMd5Listing,
  runFiler,
  startCluster,
  startS3Server,
  uploadWithRclone,
  type ClusterHandle,
  type ProcessResult,
  type S3ServerHandle,
} from '@filer/testing';

/*
 * One job, one path: every job kind in every mode, each result compared with the CLI's in-process
 * run over a local tree (the reference), and that reference with what the fixture below says it
 * must be (computed here, without filer).
 *
 * Modes: `cli-local` (filer ROOT), `cli-s3` (filer s3://bucket/prefix/, S3 env), `cluster-local`
 * and `cluster-s3` (filer --server URL --token T …: real redis-server, API, 2 scanner and 1 batch
 * worker as processes; the CLI gets no S3 env, so the cluster does the S3 work). S3 is s3rver on
 * loopback; S3 trees are read back with rclone, an independent client.
 *
 * Every mode runs the same flags (filters included: --ext txt --min-size 1), and each result is
 * normalised to relative paths (keys below the root), sizes, hashes, group memberships, trees as
 * relative path → MD5. Mutating kinds get a fresh copy of the fixture per cell.
 *
 * `undo` is a move with the same flags, then `filer jobs undo ID` (in cluster modes `filer --server
 * URL jobs undo ID`, which asks the API and follows the job): the moved trees, then the original
 * tree restored exactly. `undo via API` (cluster modes only) undoes the cluster's move with
 * POST /v1/jobs/:id/undo directly, and is compared with the CLI's undo.
 *
 * Known holes, each cell an expected failure (`it.fails`) that must fail with its own symptom (see
 * HOLES): it turns red the day the hole is closed, and whoever closes it flips the cell to `it` and
 * updates the matrix in docs/testing.md. None today.
 * Closed since: manifest --hash × cluster-local, cluster-s3 (the cluster hashes a manifest job's
 *   files); rename × cli-s3, cluster-s3 (a key renamed below its prefix: server-side copy, verified
 *   delete, through the use case batchRequests and the sink both the CLI and the cluster open).
 * A bug this matrix found, fixed since: a move S3 → S3 journaled no targetId (the second stat of
 *   its target, after the source went, trusted the plan's listing of the destination and found
 *   nothing), so `filer jobs undo ID` left every object at the destination.
 *
 * 33 s on the 2-core machine (servers up and trees seeded in 3.5 s); 54 s with the load average at 9.
 */

type Mode = 'cli-local' | 'cli-s3' | 'cluster-local' | 'cluster-s3';
type Kind = 'find' | 'dupes' | 'rename' | 'copy' | 'move' | 'manifest' | 'manifest --hash' | 'undo' | 'undo via API';

const MODES: Mode[] = ['cli-local', 'cli-s3', 'cluster-local', 'cluster-s3'];
const KINDS: Kind[] = ['find', 'dupes', 'rename', 'copy', 'move', 'manifest', 'manifest --hash', 'undo', 'undo via API'];
/** The modes a kind runs in: the API's undo is the cluster's only (its result is compared with the CLI's undo). */
const modesOf = (kind: Kind): Mode[] => (kind === 'undo via API' ? ['cluster-local', 'cluster-s3'] : MODES);

/**
 * A cell that cannot pass today: why, and the error it must fail with. Failing any other way is
 * something new, and the cell turns red as it does when the hole is closed.
 */
interface Hole {
  reason: string;
  symptom: RegExp;
}
/** The cells that cannot pass today (the header comment lists them too). */
const HOLES: Partial<Record<Kind, Partial<Record<Mode, Hole>>>> = {};

const BUCKET = 'matrix';
const FILTER = ['--ext', 'txt', '--min-size', '1'];
const RENAME_TO = '{stem}-{size}{ext}';

/** Bytes that look random but are the same every run. */
const bytes = (seed: string, n: number): Buffer => {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < n; i++) out.push(crypto.createHash('sha256').update(`${seed}/${i}`).digest());
  return Buffer.concat(out).subarray(0, n);
};

/**
 * 32 files in nested directories: three groups of duplicate .txt files, a same-size decoy, duplicate
 * files the filter leaves out (.jpg, .bin), empty .txt files (left out by --min-size 1), an upper-case
 * extension, names with spaces and a non-ASCII one.
 */
const FIXTURE: Record<string, string | Buffer> = {
  'readme.txt': 'top level readme\n',
  'empty.txt': '',
  'index.csv': 'name,size\n',
  'notes/a.txt': 'alpha\n',
  'notes/b.txt': 'shared body one\n',
  'notes/Meeting Notes.txt': 'meeting 2024\n',
  'notes/café.txt': 'crème brûlée\n',
  'notes/todo.csv': 'a,b\n1,2\n',
  'notes/2023/jan.txt': 'shared body one\n',
  'notes/2023/feb.txt': 'february\n',
  'notes/2023/empty-too.txt': '',
  'notes/2023/data.csv': 'x,y\n',
  'notes/2024/mar.txt': 'shared body one\n',
  'notes/2024/apr.txt': 'april '.repeat(50),
  'photos/img001.jpg': bytes('img001', 3000),
  'photos/img002.jpg': bytes('img001', 3000),
  'photos/captions.txt': 'captions\n',
  'photos/raw/img001.raw': bytes('raw001', 7000),
  'photos/raw/caption copy.txt': 'captions\n',
  'data/big.bin': bytes('big', 5000),
  'data/big-copy.bin': bytes('big', 5000),
  'data/log1.txt': 'log line\n'.repeat(100),
  'data/log2.txt': 'log line\n'.repeat(100),
  'data/log3.txt': 'log line\n'.repeat(99) + 'log linE\n',
  'data/nested/UPPER.TXT': 'upper case extension\n',
  'data/nested/deep/er/leaf.txt': 'leaf\n',
  'data/nested/deep/er/leaf.csv': 'leaf\n',
  'music/song.mp3': bytes('song', 4096),
  'music/list.txt': 'one\ntwo\nthree\n',
  'music/list.csv': 'one,two,three\n',
  'music/live/set 1.txt': 'set one\n',
  'music/live/set 2.txt': 'set two!\n',
};

const md5 = (b: string | Buffer): string => crypto.createHash('md5').update(b).digest('hex');
const sha256 = (b: string | Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
const sizeOf = (b: string | Buffer): number => Buffer.byteLength(b);
/** What --ext txt --min-size 1 selects (extensions match case-insensitively). */
const selected = (rel: string): boolean => /\.txt$/i.test(rel) && sizeOf(FIXTURE[rel]) >= 1;
const SELECTED = Object.keys(FIXTURE).filter(selected).sort();

function writeFixture(root: string): void {
  for (const [rel, content] of Object.entries(FIXTURE)) {
    fs.mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
}

// ---- canonical forms ----

type Tree = Record<string, string>;
interface Listed {
  path: string;
  type: string;
  size: number;
  sha256?: string;
}
interface Group {
  size: number;
  wasted: number;
  hash: string;
  paths: string[];
}

const sortedKeys = (t: Tree): Tree => Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** A path or key as it is below `root` (a directory, or `s3://bucket/prefix`); anything else is kept whole, so it shows in a diff. */
function relative(root: string, p: string): string {
  const base = root.replace(/\/+$/, '') + '/';
  return p.startsWith(base) ? p.slice(base.length) : `OUTSIDE ROOT: ${p}`;
}

function listed(root: string, text: string): Listed[] {
  return lines(text)
    .map((l) => {
      const r = JSON.parse(l) as Listed;
      return { path: relative(root, r.path), type: r.type, size: r.size, ...(r.sha256 === undefined ? {} : { sha256: r.sha256 }) };
    })
    .sort(byPath);
}

function groups(root: string, text: string): Group[] {
  return lines(text)
    .map((l) => {
      const g = JSON.parse(l) as Group;
      return { size: g.size, wasted: g.wasted, hash: g.hash, paths: g.paths.map((p) => relative(root, p)).sort() };
    })
    .sort((a, b) => byPath({ path: a.paths[0] }, { path: b.paths[0] }));
}

// ---- what the fixture says each kind must give (the CLI-local reference is checked against it) ----

const fixtureTree = (keep: (rel: string) => boolean = () => true): Tree =>
  sortedKeys(Object.fromEntries(Object.entries(FIXTURE).flatMap(([rel, c]) => (keep(rel) ? [[rel, md5(c)]] : []))));

function expected(kind: Kind): unknown {
  switch (kind) {
    case 'find':
    case 'manifest':
    case 'manifest --hash':
      return SELECTED.map((rel) => ({
        path: rel,
        type: 'file',
        size: sizeOf(FIXTURE[rel]),
        ...(kind === 'manifest --hash' ? { sha256: sha256(FIXTURE[rel]) } : {}),
      })).sort(byPath);
    case 'dupes': {
      const byContent = new Map<string, string[]>();
      for (const rel of SELECTED) byContent.set(md5(FIXTURE[rel]), [...(byContent.get(md5(FIXTURE[rel])) ?? []), rel]);
      return [...byContent.values()]
        .filter((g) => g.length > 1)
        .map((g) => ({ size: sizeOf(FIXTURE[g[0]]), wasted: sizeOf(FIXTURE[g[0]]) * (g.length - 1), hash: expect.any(String), paths: g }))
        .sort((a, b) => byPath({ path: a.paths[0] }, { path: b.paths[0] }));
    }
    case 'rename': {
      const renamed = ([rel, c]: [string, string | Buffer]): [string, string] => {
        if (!selected(rel)) return [rel, md5(c)];
        const ext = path.extname(rel);
        return [path.join(path.dirname(rel), `${path.basename(rel, ext)}-${sizeOf(c)}${ext}`), md5(c)];
      };
      return { tree: sortedKeys(Object.fromEntries(Object.entries(FIXTURE).map(renamed))) };
    }
    case 'copy':
      return { source: fixtureTree(), dest: fixtureTree(selected) };
    case 'move':
      return { source: fixtureTree((rel) => !selected(rel)), dest: fixtureTree(selected) };
    case 'undo':
    case 'undo via API':
      return {
        moved: { source: fixtureTree((rel) => !selected(rel)), dest: fixtureTree(selected) },
        undone: { source: fixtureTree(), dest: {} },
      };
  }
}

// ---- the servers, the trees, the runs ----

let work: string;
let s3: S3ServerHandle;
let s3env: Record<string, string>;
let cluster: ClusterHandle;
const started = Date.now();

const isS3 = (mode: Mode): boolean => mode.endsWith('s3');
const isCluster = (mode: Mode): boolean => mode.startsWith('cluster');
/** A cell's name, used for its trees and output files. */
const cellName = (kind: Kind, mode: Mode): string => `${kind.replace(/\W+/g, '-')}.${mode}`;
const MUTATING: Kind[] = ['rename', 'copy', 'move', 'undo', 'undo via API'];

/** The root a cell reads (the shared fixture) or changes (its own copy), and its destination. */
function cellRoots(kind: Kind, mode: Mode): { root: string; dest: string } {
  const own = MUTATING.includes(kind);
  if (isS3(mode)) {
    const base = `s3://${BUCKET}/cells/${cellName(kind, mode)}`;
    return { root: own ? `${base}/src` : `s3://${BUCKET}/fixture`, dest: `${base}/dest` };
  }
  const base = path.join(work, 'local', 'cells', cellName(kind, mode));
  return { root: own ? path.join(base, 'src') : path.join(work, 'local', 'fixture'), dest: path.join(base, 'dest') };
}

/** filer in the cell's mode: in-process with the S3 env, or through the API with none (the cluster does the S3 work). */
function filer(mode: Mode, args: string[]): Promise<ProcessResult> {
  if (isCluster(mode)) return runFiler(['--server', cluster.url, '--token', cluster.tokens.write, ...args], { timeoutMs: 90_000 });
  return runFiler(args, { env: isS3(mode) ? s3env : {}, timeoutMs: 90_000 });
}

async function ok(mode: Mode, args: string[]): Promise<ProcessResult> {
  const r = await filer(mode, args);
  expect(r.code, `filer ${args.join(' ')} (${mode}):\n${r.stderr}`).toBe(0);
  return r;
}

/** A tree as relative path → MD5: a local directory (absent: empty), or an S3 prefix read by rclone. */
async function tree(root: string): Promise<Tree> {
  if (!root.startsWith('s3://')) return sortedKeys(md5Tree(root));
  return sortedKeys(await rcloneMd5Listing(s3, `s3:${root.slice('s3://'.length)}/`));
}

const jobIdOf = (r: ProcessResult): string => {
  const id = /filer: job ([^\s:]+)/.exec(r.stderr)?.[1];
  expect(id, r.stderr).toBeDefined();
  return id!;
};

/** POST /v1/jobs/:id/undo, then waits for the job to settle; throws with the record when it does not end undone. */
async function apiUndo(id: string): Promise<void> {
  const res = await cluster.request('POST', `/v1/jobs/${id}/undo`, { token: cluster.tokens.write });
  expect(res.status, await res.text()).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rec = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as { state: string };
    if (['undone', 'failed', 'cancelled'].includes(rec.state)) {
      expect(rec.state, JSON.stringify(rec)).toBe('undone');
      return;
    }
    if (Date.now() > deadline) throw new Error(`job ${id} still ${rec.state} after its undo: ${JSON.stringify(rec)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `kind` in `mode` and returns its result in canonical form. */
async function run(kind: Kind, mode: Mode): Promise<unknown> {
  const { root, dest } = cellRoots(kind, mode);
  switch (kind) {
    case 'find':
      return listed(root, (await ok(mode, ['find', root, ...FILTER, '--format', 'ndjson'])).stdout);
    case 'dupes':
      return groups(root, (await ok(mode, ['dupes', root, ...FILTER, '--format', 'ndjson'])).stdout);
    case 'manifest':
    case 'manifest --hash': {
      const out = path.join(work, 'out', `${cellName(kind, mode)}.ndjson`);
      await ok(mode, ['manifest', root, ...FILTER, ...(kind === 'manifest' ? [] : ['--hash']), '--format', 'ndjson', '--out', out]);
      return listed(root, fs.readFileSync(out, 'utf8'));
    }
    case 'rename':
      await ok(mode, ['rename', root, ...FILTER, '--to', RENAME_TO, '--apply']);
      return { tree: await tree(root) };
    case 'copy':
    case 'move':
      await ok(mode, [kind, root, ...FILTER, '--dest', dest, '--apply']);
      return { source: await tree(root), dest: await tree(dest) };
    case 'undo': {
      const moved = await ok(mode, ['move', root, ...FILTER, '--dest', dest, '--apply']);
      const afterMove = { source: await tree(root), dest: await tree(dest) };
      await ok(mode, ['jobs', 'undo', jobIdOf(moved)]);
      return { moved: afterMove, undone: { source: await tree(root), dest: await tree(dest) } };
    }
    case 'undo via API': {
      const moved = await ok(mode, ['move', root, ...FILTER, '--dest', dest, '--apply']);
      const afterMove = { source: await tree(root), dest: await tree(dest) };
      await apiUndo(jobIdOf(moved));
      return { moved: afterMove, undone: { source: await tree(root), dest: await tree(dest) } };
    }
  }
}

/** The CLI-local result of each kind, run once (by its own cell, or by the first cell that compares with it). */
const references = new Map<Kind, Promise<unknown>>();
function reference(kind: Kind): Promise<unknown> {
  if (kind === 'undo via API') return reference('undo');
  if (!references.has(kind)) references.set(kind, run(kind, 'cli-local'));
  return references.get(kind)!;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-job-matrix-'));
  const local = path.join(work, 'local');
  writeFixture(path.join(local, 'fixture'));
  fs.mkdirSync(path.join(work, 'out'));
  // Every S3 tree is staged on disk and uploaded in one rclone run.
  const stage = path.join(work, 'stage');
  writeFixture(path.join(stage, 'fixture'));
  for (const kind of MUTATING)
    for (const mode of modesOf(kind)) {
      const src = isS3(mode) ? path.join(stage, 'cells', cellName(kind, mode), 'src') : cellRoots(kind, mode).root;
      writeFixture(src);
    }
  s3 = await startS3Server({ buckets: [BUCKET] });
  s3env = s3.env();
  const upload = uploadWithRclone(s3, stage, `s3:${BUCKET}/`, { check: true });
  cluster = await startCluster({
    allowedRoots: [local],
    env: { ...s3env, FILER_ALLOWED_S3: `${BUCKET}/fixture,${BUCKET}/cells` },
  });
  await upload;
  console.log(`job matrix: servers up and trees seeded in ${Date.now() - started} ms`);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  await s3?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  console.log(`job matrix: ${Date.now() - started} ms in all`);
});

describe('every job kind in every mode gives the CLI-local result', () => {
  it('the fixture exercises the filter and the groups', () => {
    expect(Object.keys(FIXTURE)).toHaveLength(32);
    expect(SELECTED.length).toBeGreaterThan(10);
    expect(SELECTED.length).toBeLessThan(Object.keys(FIXTURE).length - 10);
    expect((expected('dupes') as Group[]).map((g) => g.paths.length)).toEqual([2, 3, 2]);
  });

  for (const kind of KINDS)
    describe(kind, () => {
      for (const mode of modesOf(kind)) {
        const hole = HOLES[kind]?.[mode];
        const check = async (): Promise<void> => {
          if (mode === 'cli-local') expect(await reference(kind)).toEqual(expected(kind));
          else expect(await run(kind, mode)).toEqual(await reference(kind));
        };
        if (hole === undefined) it(mode, check);
        else
          it.fails(`${mode} (expected failure: ${hole.reason})`, async () => {
            try {
              await check();
            } catch (e) {
              // Only the hole's own failure counts as expected; returning makes it.fails report any other one.
              if (hole.symptom.test(String(e))) throw e;
              console.error(`${kind} × ${mode} failed, but not with the known hole (${hole.symptom}):`, e);
              return;
            }
            console.error(`${kind} × ${mode} passes: the hole is closed; make this cell an \`it\` and update docs/testing.md`);
          });
      }
    });
});
