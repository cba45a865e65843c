import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@filer/testing';
import { ALL_QUEUES, openClusterContext, readClusterConfig, redisKeys, type ClusterContext, type JobRecord } from '@filer/jobs';
import { FILER_TOKENS, startApi, TOKENS, type ApiProcess } from './api-harness.js';

/**
 * Battery 23 through the built API: the traversal vectors of the battery's list, each as a
 * job's `roots[]` entry and as its `options.dest`, refused with 400 and a field error before
 * anything reaches Redis; the symlink cases judged by where they lead. (A job has no other path
 * field: a rename's `to` template is checked when it is planned — e2e/cluster-trust.test.ts.)
 * Jobs are only admitted here; no worker runs.
 */

interface ErrorBody {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
}

let redis: RedisHandle;
let ctx: ClusterContext;
/** Allowed roots A and B; OUT and A's prefix sibling are not allowed. */
let apiAB: ApiProcess;
/** Only A allowed. */
let apiA: ApiProcess;
let base: string;
let A: string;
let B: string;
let OUT: string;
let results: string;

const submit = (api: ApiProcess, spec: unknown): Promise<Response> =>
  fetch(`${api.base}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.write}`, 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });

/** The record of the job a 202 answer names. */
async function recordOf(api: ApiProcess, res: Response): Promise<JobRecord> {
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const got = await fetch(`${api.base}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${TOKENS.read}` } });
  return (await got.json()) as JobRecord;
}

/** Everything that would show a job was accepted: the job index, job records and every queue's counts. */
async function queued(): Promise<{ index: number; records: number; shards: number }> {
  let shards = 0;
  for (const name of ALL_QUEUES) for (const n of Object.values(await ctx.queues[name].getJobCounts())) shards += n;
  return { index: await ctx.redis.zcard(redisKeys.index), records: (await ctx.redis.keys('filer:job:*')).length, shards };
}

beforeAll(async () => {
  redis = await startRedis();
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-vectors-')));
  A = path.join(base, 'A');
  B = path.join(base, 'B');
  OUT = path.join(base, 'OUT');
  for (const d of [`${A}/src/sub`, `${A}/real`, B, `${OUT}/secret`, `${A}-private`]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(`${A}/src/a.txt`, 'a');
  fs.writeFileSync(`${OUT}/secret/s.txt`, 'secret');
  fs.symlinkSync('/etc', `${A}/link-etc`);
  fs.symlinkSync('/etc', `${B}/link-etc`);
  // in → out → in: A/chain → OUT/hop → A/real
  fs.symlinkSync(`${A}/real`, `${OUT}/hop`);
  fs.symlinkSync(`${OUT}/hop`, `${A}/chain`);
  // in → out → out
  fs.symlinkSync(`${OUT}/secret`, `${OUT}/hop-out`);
  fs.symlinkSync(`${OUT}/hop-out`, `${A}/chain-out`);
  // Dangling, leading outside: the target may be made later by whoever controls OUT.
  fs.symlinkSync(`${OUT}/new-dir`, `${B}/dangling`);
  fs.symlinkSync(`${OUT}/new-dir/deeper`, `${B}/dangling-deep`);
  // Relative, dangling, climbing out.
  fs.symlinkSync('../OUT/not-yet', `${B}/dangling-rel`);
  // Dangling, leading inside B.
  fs.symlinkSync('made-later', `${B}/dangling-in`);
  // A directory symlink in A to the other root.
  fs.symlinkSync(B, `${A}/to-b`);
  results = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-vectors-results-'));
  const env = { FILER_REDIS_URL: redis.url, FILER_RESULTS_DIR: results, FILER_TOKENS };
  [apiAB, apiA] = await Promise.all([startApi({ ...env, FILER_ALLOWED_ROOTS: `${A}:${B}` }), startApi({ ...env, FILER_ALLOWED_ROOTS: A })]);
  ctx = openClusterContext(readClusterConfig({ ...env, FILER_ALLOWED_ROOTS: A }));
}, 60_000);

afterAll(async () => {
  await Promise.all([apiAB?.stop(), apiA?.stop()]);
  await Promise.race([ctx?.close(), new Promise((r) => setTimeout(r, 2_000))]);
  await redis?.stop();
  for (const d of [base, results]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

/** The battery's vectors, as written there (none is an absolute path inside an allowed root). */
const bareVectors = (): [string, string][] => [
  ['relative ../../../etc/passwd', '../../../etc/passwd'],
  ['absolute /etc/passwd', '/etc/passwd'],
  ['ROOT/../etc', `${A}/../etc`],
  ['ROOT/src/../../OUT (.. through a real directory)', `${A}/src/../../OUT`],
  ['prefix sibling ROOT-private', `${A}-private`],
  ['%2e%2e%2f', '%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
  ['%252e%252e%252f', '%252e%252e%252fetc%252fpasswd'],
  ['..%c0%af (overlong UTF-8 slash)', '..%c0%af..%c0%afetc%c0%afpasswd'],
  ['．．／ (U+FF0E U+FF0F)', '\uff0e\uff0e\uff0f\uff0e\uff0e\uff0fetc'],
  ['..∕ (U+2215)', '..\u2215..\u2215etc'],
  ['....//', '....//....//etc'],
  ['..\\..\\', '..\\..\\etc\\passwd'],
  ['x\\0.jpg inside the root', `${A}/src/x\0.jpg`],
  ['10,000-character path', `${A}/${'d/'.repeat(4999)}x`],
  ['~', '~'],
  ['~/x', '~/x'],
  ['empty', ''],
  ['.', '.'],
  ['C:\\Windows', 'C:\\Windows'],
  ['\\\\server\\share', '\\\\server\\share'],
  ['CON', 'CON'],
  ['file.txt:stream', 'file.txt:stream'],
  ['file: URL', `file://${A}/src`],
];

describe('traversal vectors through the API (battery 23)', () => {
  it('refuses every vector as a root and as a destination with 400 and a field error, before anything is queued', async () => {
    const before = await queued();
    expect(before).toEqual({ index: 0, records: 0, shards: 0 });
    const cases: { name: string; spec: unknown; field: RegExp }[] = [];
    for (const [name, v] of bareVectors()) {
      cases.push({ name: `roots[]: ${name}`, spec: { kind: 'find', roots: [v] }, field: /^roots(\.0)?$/ });
      cases.push({ name: `dest: ${name}`, spec: { kind: 'copy', roots: [`${A}/src`], options: { dest: v } }, field: /^options\.dest$/ });
    }
    // Inside an allowed root by name, leading out through symlinks.
    const symlinked: [string, unknown][] = [
      ['roots[]: symlink in ROOT → /etc', { kind: 'find', roots: [`${A}/link-etc`] }],
      ['roots[]: below a symlink in ROOT → /etc', { kind: 'find', roots: [`${A}/link-etc/ssl`] }],
      ['roots[]: chain in → out → out', { kind: 'find', roots: [`${A}/chain-out`] }],
      ['dest: below a symlink in ROOT → /etc', { kind: 'copy', roots: [`${A}/src`], options: { dest: `${B}/link-etc/filer` } }],
      ['dest: chain in → out → out', { kind: 'move', roots: [`${A}/src`], options: { dest: `${A}/chain-out/x` } }],
      ['dest: dangling symlink in ROOT → outside', { kind: 'copy', roots: [`${A}/src`], options: { dest: `${B}/dangling` } }],
      ['dest: below a dangling symlink → outside', { kind: 'copy', roots: [`${A}/src`], options: { dest: `${B}/dangling/x/y` } }],
      [
        'dest: dangling symlink → outside, two levels missing',
        { kind: 'move', roots: [`${A}/src`], options: { dest: `${B}/dangling-deep` } },
      ],
      ['dest: relative dangling symlink climbing out', { kind: 'copy', roots: [`${A}/src`], options: { dest: `${B}/dangling-rel` } }],
      // Where a dangling link points does not exist: refused wherever it points.
      ['dest: dangling symlink leading inside', { kind: 'copy', roots: [`${A}/src`], options: { dest: `${B}/dangling-in/x` } }],
    ];
    for (const [name, spec] of symlinked) cases.push({ name, spec, field: /^(roots(\.0)?|options\.dest)$/ });
    expect(cases.length).toBeGreaterThanOrEqual(50);

    const failures: string[] = [];
    for (const c of cases) {
      const res = await submit(apiAB, c.spec);
      const body = (await res.json()) as ErrorBody;
      const field = body.error?.fields?.[0]?.field ?? '';
      if (res.status !== 400 || !c.field.test(field)) failures.push(`${c.name}: ${res.status} ${JSON.stringify(body)}`);
    }
    expect(failures).toEqual([]);
    expect(await queued()).toEqual(before);
    expect(fs.existsSync(`${OUT}/new-dir`)).toBe(false);
  });

  it('takes the encoded and Windows-looking names below a root literally: not found as roots, plain names as destinations', async () => {
    const literal = [
      '%2e%2e%2fetc',
      '%252e%252e%252fetc',
      '..%c0%afetc',
      '\uff0e\uff0e\uff0fetc',
      '..\u2215etc',
      '....',
      'CON',
      'file.txt:stream',
      'C:\\Windows',
      '\\\\server\\share',
      `${'x'.repeat(255)}`,
    ];
    for (const name of literal) {
      const asRoot = await submit(apiAB, { kind: 'find', roots: [`${A}/src/${name}`] });
      const body = (await asRoot.json()) as ErrorBody;
      expect(asRoot.status, name).toBe(400);
      expect(body.error.code, name).toBe('E_ROOT_NOT_FOUND');
    }
    // A 300-byte segment cannot name a file at all.
    const long = await submit(apiAB, { kind: 'find', roots: [`${A}/src/${'x'.repeat(300)}`] });
    expect(long.status).toBe(400);
    for (const name of literal) {
      const res = await submit(apiAB, { kind: 'copy', roots: [`${A}/src`], options: { dest: `${B}/${name}` } });
      const rec = await recordOf(apiAB, res);
      // Kept as the literal name below B: nothing decoded, nothing folded.
      expect(rec.spec.options.dest, name).toBe(`${B}/${name}`);
    }
  });

  it('judges a symlink by where it leads: in → out → in is the inner path; a link to another root only where that root is allowed', async () => {
    // The job keeps the resolved path: a hop swapped later cannot lead its workers out.
    const chain = await recordOf(apiAB, await submit(apiAB, { kind: 'find', roots: [`${A}/chain`] }));
    expect(chain.spec.roots).toEqual([`${A}/real`]);
    const toB = await recordOf(apiAB, await submit(apiAB, { kind: 'find', roots: [`${A}/to-b`] }));
    expect(toB.spec.roots).toEqual([B]);
    const copyToB = await recordOf(apiAB, await submit(apiAB, { kind: 'copy', roots: [`${A}/src`], options: { dest: `${A}/to-b/in` } }));
    expect(copyToB.spec.options.dest).toBe(`${B}/in`);

    const before = await queued();
    for (const spec of [
      { kind: 'find', roots: [`${A}/to-b`] },
      { kind: 'copy', roots: [`${A}/src`], options: { dest: `${A}/to-b/in` } },
    ]) {
      const res = await submit(apiA, spec);
      const body = (await res.json()) as ErrorBody;
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(body.error.code).toBe('E_PATH_NOT_ALLOWED');
      expect(body.error.message).toMatch(/resolves \(through a symlink\) outside the allowed roots/);
    }
    expect(await queued()).toEqual(before);
  });
});
