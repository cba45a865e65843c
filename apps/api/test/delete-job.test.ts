import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { makeTree, runFiler, startRedis, type RedisHandle } from '@filer/testing';
import { newJobId, openClusterContext, QUEUES, readClusterConfig, startWorker, type ClusterContext, type JobRecord } from '@filer/jobs';
import { FILER_TOKENS, startApi, TOKENS, type ApiProcess } from './api-harness.js';

interface ErrorBody {
  error: { code: string; message: string; state?: string };
}

/** `DELETE /v1/jobs/:id` (and `filer --server … jobs delete`) against the built API, a real Redis, workers in this process. */
describe('DELETE /v1/jobs/:id', () => {
  let redis: RedisHandle;
  let api: ApiProcess;
  let ctx: ClusterContext;
  let workers: Worker[] = [];
  let root: string;
  let results: string;
  let n = 0;

  const call = (method: string, url: string, token: keyof typeof TOKENS = 'write', body?: unknown) =>
    fetch(api.base + url, {
      method,
      headers: { authorization: `Bearer ${TOKENS[token]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function until(id: string, states: string[]): Promise<JobRecord> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rec = (await (await call('GET', `/v1/jobs/${id}`, 'read')).json()) as JobRecord;
      if (states.includes(rec.state)) return rec;
      if (Date.now() > deadline) throw new Error(`job ${id} is ${rec.state}, not ${states.join('|')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function submit(spec: unknown, state: string): Promise<string> {
    const res = await call('POST', '/v1/jobs', 'write', spec);
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect((await until(id, [state, 'failed'])).state).toBe(state);
    return id;
  }

  const copySpec = () => ({ kind: 'copy', roots: [path.join(root, 'src')], options: { dest: path.join(root, `dest-${n++}`) } });

  async function appliedCopy(): Promise<string> {
    const id = await submit(copySpec(), 'planned');
    expect((await call('POST', `/v1/jobs/${id}/apply`)).status).toBe(202);
    expect((await until(id, ['completed', 'failed'])).state).toBe('completed');
    return id;
  }

  beforeAll(async () => {
    redis = await startRedis();
    results = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-api-delete-results-'));
    root = fs.realpathSync(
      makeTree({ 'src/a.txt': 'alpha', 'src/b.txt': 'bravo', 'src/deep/c.txt': 'charlie' }, { prefix: 'filer-api-delete-' }).root,
    );
    const env = {
      FILER_REDIS_URL: redis.url,
      FILER_RESULTS_DIR: results,
      FILER_ALLOWED_ROOTS: root,
      FILER_TOKENS,
      FILER_WORKER_CONCURRENCY: '2',
    };
    api = await startApi(env);
    ctx = openClusterContext(readClusterConfig(env));
    workers = [QUEUES.scan, QUEUES.batch, QUEUES.finalize].map((q) => startWorker(ctx, q));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await api?.stop(8_000);
    await ctx?.close();
    await redis?.stop();
    for (const d of [root, results]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('answer 404 for an unknown job, 400 for a bad id or force, 403 without the write scope', async () => {
    const unknown = await call('DELETE', `/v1/jobs/${newJobId()}`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorBody).error.code).toBe('E_NOT_FOUND');
    expect((await call('DELETE', '/v1/jobs/NOT-AN-ID')).status).toBe(400);
    const id = await submit({ kind: 'find', roots: [path.join(root, 'src')] }, 'completed');
    expect((await call('DELETE', `/v1/jobs/${id}?force=yes`)).status).toBe(400);
    expect((await call('DELETE', `/v1/jobs/${id}`, 'read')).status).toBe(403);
    expect(fs.existsSync(path.join(results, id, 'scan'))).toBe(true);
  });

  it('delete a finished find job: 204, its record and its parts directory gone', async () => {
    const id = await submit({ kind: 'find', roots: [path.join(root, 'src')] }, 'completed');
    expect(fs.readdirSync(path.join(results, id, 'scan')).length).toBeGreaterThan(0);
    const res = await call('DELETE', `/v1/jobs/${id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(fs.existsSync(path.join(results, id))).toBe(false);
    expect((await call('GET', `/v1/jobs/${id}`, 'read')).status).toBe(404);
    expect((await call('GET', `/v1/jobs/${id}/results`, 'read')).status).toBe(404);
    expect((await call('DELETE', `/v1/jobs/${id}`)).status).toBe(404);
  });

  it('answer 409 for a job that is not finished: running, or planned (cancel it first)', async () => {
    const running = newJobId();
    await ctx.store.create({
      id: running,
      kind: 'find',
      spec: { kind: 'find', roots: [root], filter: {}, options: {} } as never,
      state: 'running',
      createdAt: new Date().toISOString(),
    });
    const res = await call('DELETE', `/v1/jobs/${running}`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: 'E_CONFLICT', state: 'running' });
    const planned = await submit(copySpec(), 'planned');
    const refused = await call('DELETE', `/v1/jobs/${planned}`);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as ErrorBody).error.message).toMatch(/cancel it first/);
    expect(fs.existsSync(path.join(results, planned))).toBe(true);
  });

  it('answer 409 for an applied copy that can still be undone, 204 with force=true (journals gone)', async () => {
    const id = await appliedCopy();
    expect(fs.readdirSync(path.join(results, id))).toContain('journal');
    const refused = await call('DELETE', `/v1/jobs/${id}`);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as ErrorBody).error.message).toMatch(/can still be undone/);
    expect((await call('GET', `/v1/jobs/${id}`, 'read')).status).toBe(200);
    expect((await call('DELETE', `/v1/jobs/${id}?force=true`)).status).toBe(204);
    expect(fs.existsSync(path.join(results, id))).toBe(false);
    expect((await call('POST', `/v1/jobs/${id}/undo`)).status).toBe(404);
  });

  it('delete an undone job without force (nothing left to undo)', async () => {
    const id = await appliedCopy();
    expect((await call('POST', `/v1/jobs/${id}/undo`)).status).toBe(202);
    expect((await until(id, ['undone', 'failed'])).state).toBe('undone');
    expect((await call('DELETE', `/v1/jobs/${id}`)).status).toBe(204);
    expect(fs.existsSync(path.join(results, id))).toBe(false);
  });

  it('filer --server … jobs delete [--force]: exit 0 when deleted, not 0 on a conflict, 2 for an unknown job', async () => {
    const filer = (args: string[]) => runFiler(['--server', api.base, '--token', TOKENS.write, 'jobs', ...args]);
    const id = await appliedCopy();
    const refused = await filer(['delete', id]);
    expect(refused.stderr).toMatch(/can still be undone.*\[E_CONFLICT\]/);
    expect(refused.code).not.toBe(0);
    const done = await filer(['delete', id, '--force']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain(`job ${id} deleted`);
    expect(fs.existsSync(path.join(results, id))).toBe(false);
    const unknown = await filer(['delete', id]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no job/);
  });
});
