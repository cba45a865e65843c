import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { chromium } from 'playwright-core';
import { jobSpecComponentSchemas } from '@filer/core/schema';
import { makeTree, startRedis, symlink, type RedisHandle } from '@filer/testing';
import {
  ALL_QUEUES,
  newJobId,
  openClusterContext,
  readClusterConfig,
  redisKeys,
  startWorker,
  QUEUES,
  type ClusterContext,
  type JobRecord,
} from '@filer/jobs';
import { FILER_TOKENS, PROM_SAMPLE, readSse, runApiOnce, startApi, TOKENS, type ApiProcess } from './api-harness.js';

/**
 * Black-box tests of the built API (`node apps/api/dist/main.js`) against a redis-server of their
 * own; the scan, batch and finalize workers run in this process so jobs finish. Tests run in
 * order: the path-escape checks come first, while Redis holds no job at all.
 */

const CHROMIUM = '/usr/bin/chromium';

interface ErrorBody {
  error: { code: string; message: string; fields?: { field: string; message: string }[]; state?: string };
}

describe('filer api (built process, real Redis)', () => {
  let redis: RedisHandle;
  let api: ApiProcess;
  let ctx: ClusterContext;
  let workers: Worker[] = [];
  let root: string;
  let results: string;
  let outside: string;
  let env: Record<string, string>;

  const call = (method: string, url: string, token?: keyof typeof TOKENS, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(api.base + url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${TOKENS[token]}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      redirect: 'manual',
    });
  const submit = (spec: unknown, token: keyof typeof TOKENS = 'write') => call('POST', '/v1/jobs', token, spec);
  /** A GET with a read token, its body as it came over the wire (fetch would inflate a gzipped one). */
  const raw = (url: string, headers: Record<string, string>) =>
    new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .get(api.base + url, { headers: { authorization: `Bearer ${TOKENS.read}`, ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        })
        .on('error', reject);
    });

  async function waitForState(id: string, states: string[], timeoutMs = 20_000): Promise<JobRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rec = (await (await call('GET', `/v1/jobs/${id}`, 'read')).json()) as JobRecord;
      if (states.includes(rec.state)) return rec;
      if (Date.now() > deadline) throw new Error(`job ${id} is ${rec.state}, not ${states.join('|')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Everything that would show a job was accepted: the job index, job records and every queue's counts. */
  async function queuedSomething(): Promise<{ index: number; records: string[]; queued: number }> {
    const index = await ctx.redis.zcard(redisKeys.index);
    const records = await ctx.redis.keys('filer:job:*');
    let queued = 0;
    for (const name of ALL_QUEUES) for (const n of Object.values(await ctx.queues[name].getJobCounts())) queued += n;
    return { index, records, queued };
  }

  beforeAll(async () => {
    redis = await startRedis();
    results = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-api-results-'));
    const tree: Record<string, ReturnType<typeof symlink> | string> = {
      'src/a.txt': 'alpha',
      'src/b.txt': 'bravo',
      'src/deep/c.txt': 'alpha',
      'src/deep/d.log': 'delta',
      'src/deep/e,f "q".txt': 'quote',
      'src/link-out': symlink('/etc'),
      'src/link-up': symlink('..'),
      'link-root-parent': symlink('..'),
      // Inside the allowed root, leading into the batch root: as a copy's dest, inside its own root.
      'link-to-batch': symlink('batch'),
      'batch/one.txt': 'one',
      'batch/two.txt': 'two',
    };
    for (let i = 0; i < 12; i++) tree[`src/many/f${String(i).padStart(2, '0')}.txt`] = `file ${i % 3}`;
    root = fs.realpathSync(makeTree(tree, { prefix: 'filer-api-root-' }).root);
    // A sibling whose name starts with the allowed root's: allowed /tmp/x must not admit /tmp/x-evil.
    outside = `${root}-evil`;
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    env = {
      FILER_REDIS_URL: redis.url,
      FILER_RESULTS_DIR: results,
      FILER_ALLOWED_ROOTS: root,
      FILER_TOKENS,
      FILER_SHARD_BUDGET: '100',
      FILER_WORKER_CONCURRENCY: '2',
      FILER_LOG_LEVEL: 'info',
    };
    api = await startApi(env);
    ctx = openClusterContext(readClusterConfig(env));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await api?.stop(8_000);
    if (process.env.FILER_API_TEST_LOG) fs.writeFileSync(process.env.FILER_API_TEST_LOG, api?.output() ?? '');
    // Redis may be gone by now (the last test stops it): do not wait for ever on a reconnecting client.
    await Promise.race([ctx?.close(), new Promise((r) => setTimeout(r, 2_000))]);
    await redis?.stop();
    for (const d of [root, outside, results]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('refuses to start on bad configuration, naming every problem, with exit code 2', async () => {
    const r = await runApiOnce({ FILER_TOKENS: 'abc:read,def:superuser,nocolon', FILER_API_PORT: '99999', FILER_REDIS_URL: 'http://x' });
    expect(r.code).toBe(2);
    for (const v of [
      'FILER_TOKENS entry 2',
      'FILER_TOKENS entry 3',
      'FILER_API_PORT',
      'FILER_REDIS_URL',
      'FILER_RESULTS_DIR',
      'FILER_ALLOWED_ROOTS',
    ])
      expect(r.output).toContain(v);
    expect(r.output).not.toContain('abc'); // token values stay out of messages
    const missing = await runApiOnce({ ...env, FILER_TOKENS: '' });
    expect(missing.code).toBe(2);
    expect(missing.output).toMatch(/FILER_TOKENS: required/);
  });

  it('rejects every path escape with 400 before anything reaches Redis', async () => {
    const long = `${root}/${'a'.repeat(5000)}`;
    const find = (roots: unknown) => ({ kind: 'find', roots });
    const cases: [string, unknown, string[]][] = [
      ['.. segment out of the root', find([`${root}/../etc`]), ['E_PATH_NOT_ALLOWED']],
      ['.. after a real directory', find([`${root}/src/../../etc`]), ['E_PATH_NOT_ALLOWED']],
      ['the parent of the root', find([`${root}/..`]), ['E_PATH_NOT_ALLOWED']],
      ['.. inside the root', find([`${root}/src/../src`]), ['E_PATH_NOT_ALLOWED']],
      ['/allowed/../etc with a trailing slash', find([`${root}/../etc/`]), ['E_PATH_NOT_ALLOWED']],
      ['URL-encoded ..', find([`${root}/%2e%2e/etc`]), ['E_ROOT_NOT_FOUND']],
      ['URL-encoded .. and slash', find([`${root}%2f%2e%2e%2fetc`]), ['E_PATH_NOT_ALLOWED']],
      ['double-encoded ..', find([`${root}/%252e%252e/etc`]), ['E_ROOT_NOT_FOUND']],
      ['/etc', find(['/etc']), ['E_PATH_NOT_ALLOWED']],
      ['/etc/ (trailing slash)', find(['/etc/']), ['E_PATH_NOT_ALLOWED']],
      ['/', find(['/']), ['E_PATH_NOT_ALLOWED']],
      ['/root', find(['/root']), ['E_PATH_NOT_ALLOWED']],
      ['//etc', find(['//etc']), ['E_PATH_NOT_ALLOWED']],
      ['a path outside that does not exist', find(['/nonexistent/filer']), ['E_PATH_NOT_ALLOWED']],
      ['symlink inside the root to /etc', find([`${root}/src/link-out`]), ['E_PATH_NOT_ALLOWED']],
      ['symlink inside the root to /etc, trailing slash', find([`${root}/src/link-out/`]), ['E_PATH_NOT_ALLOWED']],
      ['symlink to the root’s parent', find([`${root}/link-root-parent`]), ['E_PATH_NOT_ALLOWED']],
      ['through a symlink to the parent', find([`${root}/link-root-parent/${path.basename(outside)}`]), ['E_PATH_NOT_ALLOWED']],
      // Lexically inside, and /tmp/etc does not exist: refused as not found (it would be E_PATH_NOT_ALLOWED if it did).
      ['through a symlink to the parent, missing', find([`${root}/link-root-parent/etc`]), ['E_PATH_NOT_ALLOWED', 'E_ROOT_NOT_FOUND']],
      ['NUL byte', find([`${root}/src\0/../../etc`]), ['E_PATH_NOT_ALLOWED']],
      ['5000-character path', find([long]), ['E_PATH_NOT_ALLOWED']],
      ['two-dot leader U+2025', find([`${root}/\u2025/etc`]), ['E_ROOT_NOT_FOUND']],
      ['fullwidth full stops', find([`${root}/\uff0e\uff0e/etc`]), ['E_ROOT_NOT_FOUND']],
      ['one-dot leaders U+2024 U+2024', find([`${root}/\u2024\u2024/etc`]), ['E_ROOT_NOT_FOUND']],
      ['relative path', find(['src']), ['E_PATH_NOT_ALLOWED']],
      ['relative ../', find(['../etc']), ['E_PATH_NOT_ALLOWED']],
      ['home-relative ~', find(['~/']), ['E_PATH_NOT_ALLOWED']],
      ['file: URL', find(['file:///etc']), ['E_PATH_NOT_ALLOWED']],
      ['empty string', find(['']), ['E_INVALID_ARGUMENT']],
      ['number as a root', find([42]), ['E_INVALID_ARGUMENT']],
      ['null as a root', find([null]), ['E_INVALID_ARGUMENT']],
      ['object as a root', find([{ path: root }]), ['E_INVALID_ARGUMENT']],
      ['roots as a string', find(root), ['E_INVALID_ARGUMENT']],
      ['empty roots', find([]), ['E_INVALID_ARGUMENT']],
      ['prefix sibling of the root', find([outside]), ['E_PATH_NOT_ALLOWED']],
      ['prefix sibling reached through ..', find([`${root}/../${path.basename(outside)}`]), ['E_PATH_NOT_ALLOWED']],
      ['one good root and one bad', find([`${root}/src`, '/etc']), ['E_PATH_NOT_ALLOWED']],
      ['copy dest outside', { kind: 'copy', roots: [`${root}/src`], options: { dest: '/tmp/filer-api-escape' } }, ['E_PATH_NOT_ALLOWED']],
      ['copy dest /etc', { kind: 'copy', roots: [`${root}/src`], options: { dest: '/etc/filer' } }, ['E_PATH_NOT_ALLOWED']],
      ['move dest with ..', { kind: 'move', roots: [`${root}/src`], options: { dest: `${root}/../escape` } }, ['E_PATH_NOT_ALLOWED']],
      [
        'copy dest through a symlink',
        { kind: 'copy', roots: [`${root}/batch`], options: { dest: `${root}/src/link-out/x` } },
        ['E_PATH_NOT_ALLOWED'],
      ],
      [
        'copy dest in the prefix sibling',
        { kind: 'copy', roots: [`${root}/batch`], options: { dest: `${outside}/x` } },
        ['E_PATH_NOT_ALLOWED'],
      ],
      ['a file, not a directory', find([`${root}/src/a.txt`]), ['E_ROOT_NOT_DIRECTORY']],
      // Compared as resolved paths: a dest that is, or passes through, a symlink into the root is inside it.
      [
        'copy dest a symlink to its own root',
        { kind: 'copy', roots: [`${root}/batch`], options: { dest: `${root}/link-to-batch` } },
        ['E_INVALID_ARGUMENT'],
      ],
      [
        'move dest below a symlink to its own root',
        { kind: 'move', roots: [`${root}/batch`], options: { dest: `${root}/link-to-batch/new/deeper` } },
        ['E_INVALID_ARGUMENT'],
      ],
    ];
    expect(cases.length).toBeGreaterThanOrEqual(20);
    const before = await queuedSomething();
    expect(before).toEqual({ index: 0, records: [], queued: 0 });
    for (const [name, spec, codes] of cases) {
      const res = await submit(spec);
      const body = (await res.json()) as ErrorBody;
      expect(res.status, name).toBe(400);
      expect(codes, `${name}: ${JSON.stringify(body)}`).toContain(body.error.code);
      expect(body.error.fields?.[0]?.field, name).toMatch(/^(roots(\.\d+)?|options\.dest)$/);
    }
    expect(await queuedSomething()).toEqual({ index: 0, records: [], queued: 0 });
    expect(fs.existsSync('/tmp/filer-api-escape')).toBe(false);
  });

  it('answers 401 without a valid token, 403 without the scope, and lets admin do everything', async () => {
    for (const [url, token] of [
      ['/v1/jobs', undefined],
      ['/v1/jobs', 'bogus'],
      ['/metrics', undefined],
      ['/docs-json', undefined],
      ['/admin/queues', undefined],
    ] as const) {
      const res = await fetch(api.base + url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(res.status, url).toBe(401);
      expect(res.headers.get('www-authenticate'), url).toMatch(/^Bearer/);
    }
    const read = await submit({ kind: 'find', roots: [`${root}/src`] }, 'read');
    expect(read.status).toBe(403);
    expect(((await read.json()) as ErrorBody).error.code).toBe('E_FORBIDDEN');
    expect((await call('POST', '/v1/jobs/0000000000abcdef/cancel', 'read')).status).toBe(403);
    expect((await call('GET', '/admin/queues', 'write')).status).toBe(403);
    expect(await queuedSomething()).toEqual({ index: 0, records: [], queued: 0 });

    expect((await call('GET', '/v1/jobs', 'admin')).status).toBe(200);
    const res = await submit({ kind: 'find', roots: [`${root}/src`], filter: { ext: 'log' } }, 'admin');
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { id: string; state: string; links: Record<string, string> };
    expect(accepted.state).toBe('queued');
    expect(accepted.links).toEqual({
      self: `/v1/jobs/${accepted.id}`,
      results: `/v1/jobs/${accepted.id}/results`,
      events: `/v1/jobs/${accepted.id}/events`,
    });
    expect(res.headers.get('location')).toBe(`/v1/jobs/${accepted.id}`);
    expect((await queuedSomething()).index).toBe(1);
    // Log lines about a job carry its id.
    const logged = new RegExp(`"jobId":"${accepted.id}".*"msg":"job submitted"`);
    for (let i = 0; i < 40 && !logged.test(api.output()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(api.output()).toMatch(logged);
  });

  it('answers 413 for an oversized body, 400 field by field for bad input, 400/404 for ids', async () => {
    const before = await queuedSomething();
    const big = await submit({ kind: 'find', roots: [`${root}/src`], filter: { name: ['x'.repeat(1_200_000)] } });
    expect(big.status).toBe(413);
    expect(((await big.json()) as ErrorBody).error.code).toBe('E_PAYLOAD_TOO_LARGE');

    const bad = await submit({ kind: 'find', roots: [`${root}/src`], filter: { minSize: 'abc' } });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as ErrorBody;
    expect(body.error.code).toBe('E_INVALID_ARGUMENT');
    expect(body.error.fields?.[0].field).toBe('filter.minSize');

    for (const [spec, field] of [
      [{ kind: 'frobnicate', roots: [root] }, 'kind'],
      [{ kind: 'find', roots: [root], filter: { regex: '(' } }, 'filter.regex'],
      [{ kind: 'find', roots: [root], options: { colour: 'red' } }, 'options.colour'],
      [{ kind: 'copy', roots: [root] }, 'options.dest'],
      [{ kind: 'find', roots: [root], apply: true }, 'apply'],
    ] as const) {
      const res = await submit(spec);
      expect(res.status, field).toBe(400);
      expect(((await res.json()) as ErrorBody).error.fields?.[0].field).toBe(field);
    }
    expect((await submit('{not json')).status).toBe(400);
    expect(await queuedSomething()).toEqual(before);

    expect((await call('GET', '/v1/jobs/..%2F..%2Fetc', 'read')).status).toBe(400);
    expect((await call('GET', '/v1/jobs/NOT_AN_ID', 'read')).status).toBe(400);
    const unknown = await call('GET', '/v1/jobs/0000000000abcdef', 'read');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorBody).error.code).toBe('E_NOT_FOUND');
    expect((await call('GET', '/v1/jobs?limit=501', 'read')).status).toBe(400);
    expect((await call('GET', '/v1/jobs?limit=0', 'read')).status).toBe(400);
    expect((await call('GET', '/v1/jobs?state=bogus', 'read')).status).toBe(400);
    expect((await call('GET', '/v1/jobs/0000000000abcdef/results?limit=100001', 'read')).status).toBe(400);
    expect((await call('GET', '/v1/jobs/0000000000abcdef/results?format=xml', 'read')).status).toBe(400);
  });

  it('runs a find job: events end with completed, results in every format and in pages', async () => {
    workers = [startWorker(ctx, QUEUES.scan), startWorker(ctx, QUEUES.batch), startWorker(ctx, QUEUES.finalize)];
    const res = await submit({ kind: 'find', roots: [`${root}/src`], filter: { ext: 'txt' } });
    expect(res.status).toBe(202);
    const { id, links } = (await res.json()) as { id: string; links: { events: string; results: string } };

    const stream = await call('GET', links.events, 'read');
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { events } = await readSse(stream);
    expect(events[0].event).toBe('record');
    expect(events.at(-1)).toMatchObject({ event: 'end' });
    expect(JSON.parse(events.at(-1)!.data)).toEqual({ state: 'completed' });
    const last = JSON.parse(events.at(-2)!.data) as JobRecord;
    expect(last.state).toBe('completed');
    expect(events.slice(1, -1).every((e) => e.event === 'state' || e.event === 'progress')).toBe(true);

    const expected = [
      'a.txt',
      'b.txt',
      'deep/c.txt',
      'deep/e,f "q".txt',
      ...Array.from({ length: 12 }, (_, i) => `many/f${String(i).padStart(2, '0')}.txt`),
    ]
      .map((rel) => path.join(root, 'src', rel))
      .sort();
    expect(expected.length).toBe(16);
    const rec = (await (await call('GET', `/v1/jobs/${id}`, 'read')).json()) as JobRecord;
    expect(rec).toMatchObject({ state: 'completed', results: 16 });

    const ndjson = await call('GET', links.results, 'read');
    expect(ndjson.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const entries = (await ndjson.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; type: string; size: number; mtime: string });
    expect(entries.map((e) => e.path).sort()).toEqual(expected);
    expect(entries.every((e) => e.type === 'file' && typeof e.size === 'number' && !Number.isNaN(Date.parse(e.mtime)))).toBe(true);

    const csv = await (await call('GET', `${links.results}?format=csv`, 'read')).text();
    const rows = csv.trimEnd().split('\n');
    expect(rows[0]).toBe('path,type,size,mtime');
    expect(rows.length).toBe(17);
    expect(csv).toContain(`"${root}/src/deep/e,f ""q"".txt",file,5,`);

    const json = (await (await call('GET', `${links.results}?format=json`, 'read')).json()) as { path: string }[];
    expect(json.map((e) => e.path).sort()).toEqual(expected);

    const paths = await (await call('GET', `${links.results}?format=paths`, 'read')).text();
    expect(paths.trimEnd().split('\n').sort()).toEqual(expected);

    // Pages: cursor skips, limit bounds, X-Next-Cursor says where the next page starts.
    const all = entries.map((e) => e.path);
    const page1 = await call('GET', `${links.results}?limit=10`, 'read');
    expect(page1.headers.get('x-next-cursor')).toBe('10');
    expect((await page1.text()).trim().split('\n').length).toBe(10);
    const page2 = await call('GET', `${links.results}?format=paths&cursor=10&limit=10`, 'read');
    expect(page2.headers.get('x-next-cursor')).toBeNull();
    expect((await page2.text()).trim().split('\n')).toEqual(all.slice(10));
    const emptyJson = await (await call('GET', `${links.results}?format=json&cursor=16`, 'read')).json();
    expect(emptyJson).toEqual([]);

    // gzip when asked (fetch inflates by itself, so these read the wire): the same bytes once inflated.
    for (const q of ['format=ndjson', 'format=paths&cursor=3&limit=9', 'format=csv']) {
      const plain = await raw(`${links.results}?${q}`, { 'accept-encoding': 'identity' });
      expect(plain.headers['content-encoding'], q).toBeUndefined();
      expect(plain.headers.vary).toBe('accept-encoding');
      const zipped = await raw(`${links.results}?${q}`, { 'accept-encoding': 'br;q=1, gzip;q=0.8' });
      expect(zipped.headers['content-encoding'], q).toBe('gzip');
      expect(zipped.headers['x-total-count']).toBe('16');
      expect(gunzipSync(zipped.body).equals(plain.body), q).toBe(true);
      expect(plain.body.length).toBeGreaterThan(0);
    }
    expect((await raw(`${links.results}?format=paths`, { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding']).toBeUndefined();

    // A finished job cannot be cancelled, applied or undone.
    for (const action of ['cancel', 'apply', 'undo']) {
      const r = await call('POST', `/v1/jobs/${id}/${action}`, 'write');
      expect(r.status, action).toBe(409);
      expect(((await r.json()) as ErrorBody).error.state).toBe('completed');
    }
    const listed = (await (await call('GET', '/v1/jobs?kind=find&state=completed&limit=1', 'read')).json()) as {
      jobs: JobRecord[];
      next: string | null;
    };
    expect(listed.jobs.map((j) => j.id)).toEqual([id]);
    expect(listed.next).toBe(id);
    const rest = (await (await call('GET', `/v1/jobs?kind=find&limit=50&before=${id}`, 'read')).json()) as { jobs: JobRecord[] };
    expect(rest.jobs.every((j) => j.id !== id)).toBe(true);
  });

  it('runs dupes (CSV groups) and a copy job through plan, apply and undo', async () => {
    const dupes = (await (await submit({ kind: 'dupes', roots: [`${root}/src`] })).json()) as { id: string };
    await waitForState(dupes.id, ['completed']);
    const csv = await (await call('GET', `/v1/jobs/${dupes.id}/results?format=csv`, 'read')).text();
    expect(csv.split('\n')[0]).toBe('group,size,hash,wasted,path');
    expect(csv).toContain(`${root}/src/a.txt`);
    expect(csv).toContain(`${root}/src/deep/c.txt`);
    expect((await call('GET', `/v1/jobs/${dupes.id}/results?format=paths`, 'read')).status).toBe(400);

    const dest = path.join(root, 'copied');
    const copy = (await (await submit({ kind: 'copy', roots: [`${root}/batch`], options: { dest } })).json()) as { id: string };
    const planned = await waitForState(copy.id, ['planned', 'failed']);
    expect(planned.plan).toMatchObject({ actions: 2, conflicts: 0 });
    const plan = (await (await call('GET', `/v1/jobs/${copy.id}/results?format=json`, 'read')).json()) as {
      action: string;
      target: string;
    }[];
    expect(plan.map((a) => a.target).sort()).toEqual([path.join(dest, 'one.txt'), path.join(dest, 'two.txt')]);
    expect((await call('POST', `/v1/jobs/${copy.id}/undo`, 'write')).status).toBe(409);
    const apply = await call('POST', `/v1/jobs/${copy.id}/apply`, 'write');
    expect(apply.status).toBe(202);
    const done = await waitForState(copy.id, ['completed', 'failed']);
    expect(done.state).toBe('completed');
    expect(fs.readFileSync(path.join(dest, 'two.txt'), 'utf8')).toBe('two');
    const report = await (await call('GET', `/v1/jobs/${copy.id}/results?format=csv`, 'read')).text();
    expect(report.split('\n')[0]).toBe('action,source,target,size,state,detail');
    expect(report.trimEnd().split('\n').length).toBe(3);
    expect((await call('POST', `/v1/jobs/${copy.id}/undo`, 'write')).status).toBe(202);
    expect((await waitForState(copy.id, ['undone', 'failed'])).state).toBe('undone');
    expect(fs.existsSync(path.join(dest, 'two.txt'))).toBe(false);
  });

  it('serves Prometheus text with job and queue gauges', async () => {
    const res = await call('GET', '/metrics', 'read');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.length).toBeGreaterThan(10);
    for (const line of samples) expect(line).toMatch(PROM_SAMPLE);
    expect(text).toMatch(/^filer_jobs\{.*kind="find".*state="completed".*\} [1-9]/m);
    expect(text).toMatch(/^filer_queue_depth\{.*queue="filer-scan".*\} \d+/m);
    expect(text).toMatch(/^filer_jobs_submitted_total\{.*kind="find".*\} [1-9]/m);
    expect(text).toMatch(/^filer_http_request_duration_seconds_count\{.*route="\/v1\/jobs\/:id".*\} [1-9]/m);
  });

  it('publishes an OpenAPI document and Swagger UI', async () => {
    const res = await call('GET', '/docs-json', 'read');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/results', '/v1/jobs/{id}/events', '/v1/jobs/{id}/apply', '/health/ready'])
      expect(Object.keys(doc.paths)).toContain(p);
    // The request's schemas are core's zod schemas as JSON Schema: the served ones can never drift from what parseJobSpec checks.
    const generated = jobSpecComponentSchemas();
    expect(doc.components.schemas.JobSpec).toEqual(generated.JobSpec);
    expect(doc.components.schemas.FilterSpec).toEqual(generated.FilterSpec);
    expect(doc.components.schemas.JobSpec).toMatchObject({ properties: { version: { default: 1 } } });
    // Open routes say so; every other one asks for the bearer token.
    const ops = Object.entries(doc.paths).flatMap(([p, byMethod]) =>
      Object.entries(byMethod as Record<string, { security?: unknown }>).map(([m, op]) => [`${m} ${p}`, op.security] as const),
    );
    expect(ops.filter(([, sec]) => Array.isArray(sec) && sec.length === 0).map(([op]) => op)).toEqual(['get /health', 'get /health/ready']);
    for (const [op, sec] of ops) if (!op.includes(' /health')) expect(sec, op).toEqual([{ bearer: [] }]);
    const ui = await call('GET', '/docs', 'read');
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('renders Bull Board in headless Chromium for an admin, and refuses others', async () => {
    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    expect((await fetch(`${api.base}/admin/queues?token=${TOKENS.read}`, { redirect: 'manual' })).status).toBe(403);
    expect((await fetch(`${api.base}/admin/queues/api/queues`)).status).toBe(401);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      // ?token= once: an HttpOnly cookie is set and the token leaves the URL.
      const res = await page.goto(`${api.base}/admin/queues?token=${TOKENS.admin}`);
      expect(res?.status()).toBe(200);
      expect(page.url()).toBe(`${api.base}/admin/queues`);
      for (const name of Object.values(QUEUES)) await page.getByText(name, { exact: false }).first().waitFor({ timeout: 15_000 });
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === 'filer_token')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      // The cookie opens the browser pages only, never the API.
      const apiStatus = await page.evaluate(async () => (await fetch('/v1/jobs')).status);
      expect(apiStatus).toBe(401);

      const anonymous = await (await browser.newContext()).newPage();
      expect((await anonymous.goto(`${api.base}/admin/queues`))?.status()).toBe(401);
    } finally {
      await browser.close();
    }
  });

  it('ends event streams and exits on SIGTERM', async () => {
    const second = await startApi(env);
    try {
      // A job that stays queued (nothing was put on a queue for it) keeps its event stream open.
      const id = newJobId();
      await ctx.store.create({
        id,
        kind: 'find',
        spec: { kind: 'find', roots: [root], filter: {}, options: {}, apply: false } as never,
        state: 'queued',
        createdAt: new Date().toISOString(),
      });
      const res = await fetch(`${second.base}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${TOKENS.read}` } });
      const reading = readSse(res, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      const exit = await second.stop(8_000);
      expect(exit.killed).toBe(false);
      expect(Date.now() - t0).toBeLessThan(8_000);
      const { events } = await reading;
      expect(events[0].event).toBe('record');
      expect(events.at(-1)?.event).toBe('end');
    } finally {
      await second.stop(2_000);
    }
  });

  it('is live and ready, and not ready once Redis is gone', async () => {
    const live = await fetch(`${api.base}/health`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${api.base}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; redis: { appendonly: string; maxmemoryPolicy: string }; warnings: string[] };
    expect(body.status).toBe('ok');
    expect(body.redis).toEqual({ appendonly: 'no', maxmemoryPolicy: 'noeviction' });
    expect(body.warnings.join(' ')).toMatch(/appendonly/);

    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    await redis.stop();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fetch(`${api.base}/health/ready`)).status;
      if (status === 503) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(503);
    expect((await fetch(`${api.base}/health`)).status).toBe(200);
  });
});
