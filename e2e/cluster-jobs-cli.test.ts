import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, startCluster, type ClusterHandle, type ProcessResult } from '@filer/testing';

/*
 * `filer --server URL --token T jobs list|show|resume|undo|cancel` against a real cluster (redis-server,
 * the API, two scanner and one batch worker as processes): the cluster's jobs steered with the verbs
 * of local ones, their answers and exit codes, the API's refusals shown with their codes.
 */

let cluster: ClusterHandle;
let base: string;

/** filer through the cluster's API with a token (by default one of the write scope), or with none (`null`). */
const filer = (args: string[], token: string | null = cluster.tokens.write): Promise<ProcessResult> =>
  runFiler(['--server', cluster.url, ...(token === null ? [] : ['--token', token]), ...args], {
    env: { FILER_TOKEN: '' },
    timeoutMs: 90_000,
  });

/** A tree of nested files with distinct bytes, modes and mtimes. */
function writeTree(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const file = path.join(root, `d${i % 4}`, `sub${i % 3}`, `f ${i}.dat`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      crypto
        .createHash('sha256')
        .update(`file ${i}`)
        .digest()
        .toString('hex')
        .repeat(i + 1),
    );
    fs.chmodSync(file, i % 2 === 0 ? 0o640 : 0o600);
    fs.utimesSync(file, new Date(2020, 0, 1 + i), new Date(2020, 0, 1 + i));
  }
}

/** Every regular file below `root` as GNU find sees it (relative path, size, mode, mtime) plus its sha256: an oracle filer did not write. */
function snapshot(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return execFileSync('find', [root, '-type', 'f', '-printf', '%P\t%s\t%m\t%T@\\0'])
    .toString('utf8')
    .split('\0')
    .filter((r) => r !== '')
    .map(
      (r) =>
        `${r}\t${crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(root, r.split('\t')[0])))
          .digest('hex')}`,
    )
    .sort();
}

const jobIdOf = (r: ProcessResult): string => {
  const id = /filer: job ([0-9a-z]+) /.exec(r.stderr)?.[1];
  expect(id, r.stderr).toBeDefined();
  return id!;
};

/** Submits a job through the API and waits until it reaches `state`. */
async function submitUntil(spec: unknown, state: string): Promise<string> {
  const res = await cluster.request('POST', '/v1/jobs', { token: cluster.tokens.write, body: spec });
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rec = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as { state: string };
    if (rec.state === state) return id;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${rec.state}, not ${state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-cluster-jobs-cli-'));
  cluster = await startCluster({ allowedRoots: [base] });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('filer --server … jobs', () => {
  const FILES = 24;
  let moveId: string;
  const src = (): string => path.join(base, 'moved', 'src');
  const dest = (): string => path.join(base, 'moved', 'dest');
  let before: string[];

  it('list and show a cluster move the CLI applied', async () => {
    writeTree(src(), FILES);
    before = snapshot(src());
    expect(before).toHaveLength(FILES);
    const moved = await filer(['move', src(), '--dest', dest(), '--apply']);
    expect(moved.code, moved.stderr).toBe(0);
    moveId = jobIdOf(moved);
    expect(snapshot(src())).toEqual([]);
    expect(snapshot(dest())).toHaveLength(FILES);

    const listed = await filer(['jobs', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    const row = listed.stdout.split('\n').find((l) => l.startsWith(moveId));
    expect(row, listed.stdout).toMatch(
      new RegExp(`^${moveId}  move +completed +\\d{4}-\\d\\d-\\d\\dT\\S+  done ${FILES}, failed 0, pending 0, undone 0$`),
    );

    const ndjson = await filer(['jobs', 'list', '--format', 'ndjson'], cluster.tokens.read);
    expect(ndjson.code, ndjson.stderr).toBe(0);
    const records = ndjson.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; kind: string; state: string; apply?: { done: number } });
    expect(records.find((r) => r.id === moveId)).toMatchObject({ kind: 'move', state: 'completed', apply: { done: FILES } });

    const shown = await filer(['jobs', 'show', moveId], cluster.tokens.read);
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.trim().split('\n');
    expect(lines[0]).toBe(row);
    const actions = lines.slice(1).filter((l) => l.startsWith('done '));
    expect(actions).toHaveLength(FILES);
    for (const l of actions) expect(l).toMatch(new RegExp(`^done +${src()}/.+ → ${dest()}/.+$`));

    const shownNd = await filer(['jobs', 'show', moveId, '--format', 'ndjson']);
    const [head, ...rest] = shownNd.stdout.trim().split('\n');
    expect((JSON.parse(head) as { job: { id: string } }).job.id).toBe(moveId);
    expect(rest.map((l) => (JSON.parse(l) as { state: string }).state)).toEqual(Array(FILES).fill('done'));
  });

  it('a token without the write scope is refused the undo, and nothing changes', async () => {
    const r = await filer(['jobs', 'undo', moveId], cluster.tokens.read);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^filer: 403 Forbidden: this token lacks the 'write' scope \[E_FORBIDDEN\]\n$/);
    const none = await filer(['jobs', 'undo', moveId], null);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/^filer: 401 .*\[E_UNAUTHORIZED\]\n$/);
    expect(snapshot(src())).toEqual([]);
    expect(snapshot(dest())).toHaveLength(FILES);
  });

  it('resume of a completed job is a conflict the API names (exit 3)', async () => {
    const r = await filer(['jobs', 'resume', moveId]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^filer: 409 Conflict: job \S+ is completed .*can be resumed \[E_CONFLICT\]\n$/);
  });

  it('undo follows the job to its end and restores the moved tree exactly', async () => {
    const r = await filer(['jobs', 'undo', moveId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`filer: job ${moveId} undone: 0 done, ${FILES} undone, 0 failed, 0 skipped, 0 pending\n`);
    expect(snapshot(src())).toEqual(before);
    expect(snapshot(dest())).toEqual([]);
    const shown = await filer(['jobs', 'show', moveId]);
    expect(shown.stdout.split('\n')[0]).toMatch(new RegExp(`^${moveId}  move +undone +`));
    expect(shown.stdout.split('\n').filter((l) => l.startsWith('undone '))).toHaveLength(FILES);
    // Only once: an undone job has nothing left to undo.
    const again = await filer(['jobs', 'undo', moveId]);
    expect(again.code, again.stderr).toBe(3);
    expect(again.stderr).toMatch(/is undone.*nothing to undo \[E_CONFLICT\]/);
  });

  it('cancel stops a planned job: it is never applied', async () => {
    const csrc = path.join(base, 'cancelled', 'src');
    writeTree(csrc, 6);
    const planned = snapshot(csrc);
    const id = await submitUntil({ kind: 'move', roots: [csrc], options: { dest: path.join(base, 'cancelled', 'dest') } }, 'planned');
    const r = await filer(['jobs', 'cancel', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`filer: job ${id} cancelled\n`);
    const shown = await filer(['jobs', 'show', id]);
    expect(shown.stdout).toMatch(new RegExp(`^${id}  move +cancelled +\\S+  planned 6, conflicts 0\\nmessage +cancelled on request\\n$`));
    const again = await filer(['jobs', 'cancel', id]);
    expect(again.code, again.stderr).toBe(3);
    expect(again.stderr).toMatch(/is cancelled: nothing to cancel \[E_CONFLICT\]/);
    expect((await cluster.request('POST', `/v1/jobs/${id}/apply`, { token: cluster.tokens.write })).status).toBe(409);
    expect(snapshot(csrc)).toEqual(planned);
  });

  it('show of a find job names its counts and where its results are', async () => {
    const id = await submitUntil({ kind: 'find', roots: [src()], options: { format: 'paths' } }, 'completed');
    const rec = (await (await cluster.request('GET', `/v1/jobs/${id}`, { token: cluster.tokens.read })).json()) as {
      createdAt: string;
      counters: { matched: number };
      results: number;
    };
    const paths = await (await cluster.request('GET', `/v1/jobs/${id}/results?format=paths`, { token: cluster.tokens.read })).text();
    expect(paths.split('\n').filter((l) => l.endsWith('.dat'))).toHaveLength(FILES);
    const shown = await filer(['jobs', 'show', id], cluster.tokens.read);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(
      `${id}  find   completed ${rec.createdAt}  matched ${rec.counters.matched}, errors 0\n` +
        `results  ${paths.split('\n').length - 1} at ${cluster.url}/v1/jobs/${id}/results\n`,
    );
  });

  it('find -x through --server runs the command on this machine, once per match of the cluster job', async () => {
    const root = path.join(base, 'exec');
    writeTree(root, 6);
    // Only the CLI's process has FILER_EXEC_SIDE: a run on a worker would print 'worker'.
    const r = await runFiler(
      [
        '--server',
        cluster.url,
        '--token',
        cluster.tokens.write,
        'find',
        root,
        '-x',
        'sh',
        '-c',
        'echo "${FILER_EXEC_SIDE:-worker} $1"',
        'sh',
      ],
      { env: { FILER_TOKEN: '', FILER_EXEC_SIDE: 'client' }, timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const files = snapshot(root).map((row) => `client ${path.join(root, row.split('\t')[0])}`);
    expect(files).toHaveLength(6);
    expect(r.stdout.trim().split('\n').sort()).toEqual(files.sort());
  });

  it('an unknown or malformed id, or none, is bad input (exit 2) and names the problem', async () => {
    const unknown = await filer(['jobs', 'undo', '0000000000zzzzzz']);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toBe(
      `filer: no job '0000000000zzzzzz' on ${cluster.url} (see filer --server ${cluster.url} jobs list) [E_NOT_FOUND]\n`,
    );
    const show = await filer(['jobs', 'show', '0000000000zzzzzz'], cluster.tokens.read);
    expect(show.code).toBe(2);
    expect(show.stderr).toMatch(/no job '0000000000zzzzzz'.*\[E_NOT_FOUND\]/);
    const malformed = await filer(['jobs', 'cancel', 'not-an-id!']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/'not-an-id!' is not a job id \[E_INVALID_ARGUMENT\]/);
    const none = await filer(['jobs', 'resume']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/jobs resume needs a job id/);
    const verb = await filer(['jobs', 'apply', moveId]);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toMatch(/unknown jobs command 'apply': expected list, show, resume, undo, purge, cancel/);
  });

  it('without --server, cancel says it steers cluster jobs (exit 2)', async () => {
    const r = await runFiler(['jobs', 'cancel', '0000000000zzzzzz'], { env: { FILER_SERVER: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/jobs cancel steers a cluster job: give --server URL/);
  });
});
