import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRclone, startCluster, startS3Server, type ClusterHandle, type S3ServerHandle } from '@filer/testing';

/*
 * FILER_RESULTS=s3://…: two clusters side by side (real redis-server, API and workers as processes),
 * one keeping its results in a directory, the other on s3rver. The same find, move and undo over
 * two copies of one tree must give the same bytes through the API; the S3 cluster's parts,
 * journals and records are objects (listed with rclone), and DELETE removes them.
 */

const BUCKET = 'filer-results';
const PREFIX = 'cluster/';
const FILES = 120;

let server: S3ServerHandle;
let dirCluster: ClusterHandle;
let s3Cluster: ClusterHandle;
let work: string;
/** The S3 cluster's find job, read again after Redis loses its state. */
let s3FindId = '';

function writeTree(root: string): void {
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, `d${i % 6}`, `s${i % 4}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}${i % 3 === 0 ? '.csv' : '.txt'}`), `content ${i} ${'x'.repeat(i)}\n`);
  }
}

/** Every file below `root`, relative, with its content. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else out.push(`${path.relative(root, p)}\t${fs.readFileSync(p, 'utf8')}`);
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}

/** A side of the comparison: its cluster and the tree it works on (the same content at another path). */
interface Side {
  cluster: () => ClusterHandle;
  root: string;
}

async function submit(side: Side, body: unknown): Promise<string> {
  const c = side.cluster();
  const res = await c.request('POST', '/v1/jobs', { token: c.tokens.write, body });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function waitFor(side: Side, id: string, states: string[]): Promise<Record<string, unknown>> {
  const c = side.cluster();
  for (;;) {
    const rec = (await (await c.request('GET', `/v1/jobs/${id}`, { token: c.tokens.read })).json()) as Record<string, unknown>;
    if (states.includes(rec.state as string)) return rec;
    if (['failed', 'cancelled'].includes(rec.state as string)) throw new Error(`job ${id} ${String(rec.state)}: ${String(rec.message)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET …/results as bytes, with the side's own root written as ROOT so two sides compare. */
async function results(side: Side, id: string, query: string, gzip = false): Promise<{ text: string; next: string | null }> {
  const c = side.cluster();
  const res = await c.request('GET', `/v1/jobs/${id}/results${query}`, {
    token: c.tokens.read,
    headers: gzip ? { 'accept-encoding': 'gzip' } : {},
  });
  expect(res.status).toBe(200);
  // fetch decodes a gzipped body itself: the header says it was sent gzipped.
  if (gzip) expect(res.headers.get('content-encoding')).toBe('gzip');
  const body = Buffer.from(await res.arrayBuffer());
  // Two trees written a moment apart: the same but for their root and mtimes.
  const text = body
    .toString('utf8')
    .split(side.root)
    .join('ROOT')
    .replace(/"mtime":"[^"]*"/g, '"mtime":"T"');
  return { text, next: res.headers.get('x-next-cursor') };
}

const lsf = async (remote: string): Promise<string[]> =>
  (await runRclone(server, ['lsf', '-R', '--files-only', remote])).stdout.split('\n').filter((l) => l !== '');

const dirSide: Side = { cluster: () => dirCluster, root: '' };
const s3Side: Side = { cluster: () => s3Cluster, root: '' };

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-results-s3-'));
  dirSide.root = path.join(work, 'dir');
  s3Side.root = path.join(work, 's3');
  writeTree(path.join(dirSide.root, 'tree'));
  writeTree(path.join(s3Side.root, 'tree'));
  const env = { FILER_SHARD_BUDGET: '100', FILER_BATCH_SHARD_SIZE: '25' };
  [dirCluster, s3Cluster] = await Promise.all([
    startCluster({ allowedRoots: [dirSide.root], scanners: 1, env }),
    startCluster({ allowedRoots: [s3Side.root], scanners: 1, env: { ...env, ...server.env(), FILER_RESULTS: `s3://${BUCKET}/${PREFIX}` } }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([dirCluster?.stop(), s3Cluster?.stop()]);
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('results, journals and records on S3 (FILER_RESULTS=s3://…)', () => {
  it('find: the same bytes as the directory mode, in pages by cursor, plain and gzipped; the parts are objects', async () => {
    const ids = await Promise.all(
      [dirSide, s3Side].map(async (side) => {
        const id = await submit(side, { kind: 'find', roots: [path.join(side.root, 'tree')] });
        await waitFor(side, id, ['completed']);
        return id;
      }),
    );
    const [d, s] = [dirSide, s3Side].map((side, i) => ({ side, id: ids[i]! }));
    s3FindId = s.id;
    const whole = await results(s.side, s.id, '?format=ndjson');
    // Records come in part order, and parts are named by shard: compare as sets of lines, then page exactly.
    const sorted = (t: string): string[] =>
      t
        .split('\n')
        .filter((l) => l !== '')
        .sort();
    expect(sorted(whole.text)).toEqual(sorted((await results(d.side, d.id, '?format=ndjson')).text));
    expect(sorted(whole.text)).toHaveLength(FILES);
    expect(sorted((await results(s.side, s.id, '?format=paths')).text)).toEqual(
      sorted((await results(d.side, d.id, '?format=paths')).text),
    );
    // Cursor paging over S3 gives exactly the whole body, page by page, across part boundaries.
    let paged = '';
    for (let cursor = '0'; ;) {
      const page = await results(s.side, s.id, `?format=ndjson&limit=17&cursor=${cursor}`);
      paged += page.text;
      if (page.next === null) break;
      cursor = page.next;
    }
    expect(paged).toBe(whole.text);
    expect((await results(s.side, s.id, '?format=ndjson', true)).text).toBe(whole.text);
    expect((await results(s.side, s.id, '?format=csv')).text.split('\n')[0]).toMatch(/^path,/);
    const objects = await lsf(`s3:${BUCKET}/${PREFIX}${s.id}/`);
    expect(objects).toContain('record.json');
    expect(objects.filter((o) => o.startsWith('scan/') && o.endsWith('.ndjson')).length).toBeGreaterThan(1);
    // Nothing of the job is left in the S3 cluster's local directory (its scratch).
    expect(fs.readdirSync(s3Cluster.resultsDir).filter((n) => n.startsWith(s.id))).toEqual([]);
  });

  it('move + undo: the same report and the same trees as the directory mode, journals as objects; DELETE removes the objects; records survive FLUSHALL', async () => {
    const moved: Record<string, string[]> = {};
    const reports: string[] = [];
    const ids: string[] = [];
    for (const side of [dirSide, s3Side]) {
      const id = await submit(side, {
        kind: 'move',
        roots: [path.join(side.root, 'tree')],
        filter: { ext: 'csv' },
        options: { dest: path.join(side.root, 'out') },
        apply: true,
      });
      const done = (await waitFor(side, id, ['completed'])) as { apply: { done: number } };
      expect(done.apply.done).toBe(FILES / 3);
      moved[side.root] = listing(side.root).map((l) => l.slice(0));
      reports.push(
        (await results(side, id, '?format=ndjson')).text
          .split('\n')
          .filter((l) => l !== '')
          .sort()
          .join('\n'),
      );
      const c = side.cluster();
      expect((await c.request('POST', `/v1/jobs/${id}/undo`, { token: c.tokens.write })).status).toBe(202);
      const undone = (await waitFor(side, id, ['undone'])) as { apply: { undone: number } };
      expect(undone.apply.undone).toBe(FILES / 3);
      ids.push(id);
    }
    expect(reports[1]).toBe(reports[0]);
    expect(reports[0]!.split('\n')).toHaveLength(FILES / 3);
    expect(moved[s3Side.root]).toEqual(moved[dirSide.root]);
    expect(listing(path.join(s3Side.root, 'out'))).toHaveLength(0);
    expect(listing(path.join(s3Side.root, 'tree'))).toEqual(listing(path.join(dirSide.root, 'tree')));
    expect(listing(path.join(s3Side.root, 'tree'))).toHaveLength(FILES);

    const s3Id = ids[1]!;
    const journals = (await lsf(`s3:${BUCKET}/${PREFIX}${s3Id}/`)).filter((o) => o.startsWith('journal/'));
    expect(journals).toEqual(['journal/00000.db', 'journal/00001.db']);
    const c = s3Cluster;
    expect((await c.request('DELETE', `/v1/jobs/${s3Id}`, { token: c.tokens.write })).status).toBe(204);
    expect(await lsf(`s3:${BUCKET}/${PREFIX}${s3Id}/`)).toEqual([]);
    expect((await c.request('GET', `/v1/jobs/${s3Id}`, { token: c.tokens.read })).status).toBe(404);

    // Redis loses its state: the find job's record comes back from its copy on S3, and so do its results.
    const before = (await results(s3Side, s3FindId, '?format=ndjson')).text;
    const client = new Redis(c.redis.url);
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    expect(await waitFor(s3Side, s3FindId, ['completed'])).toMatchObject({ id: s3FindId, kind: 'find' });
    expect((await results(s3Side, s3FindId, '?format=ndjson')).text).toBe(before);
  });
});
