import { describe, expect, it } from 'vitest';
import { FilerError, type FilerErrorCode } from '@filer/core';
import type { JobRecord } from '@filer/jobs';
import { browserPageScope } from '../src/auth/browser-auth.js';
import { bearerToken, parseTokens, scopesOf } from '../src/auth/tokens.js';
import { readApiConfig } from '../src/config/api-config.js';
import { toApiError } from '../src/errors/exception.filter.js';
import { idempotencyKey, requestFingerprint } from '../src/jobs/idempotency.js';
import { streamEnds } from '../src/jobs/job-event-stream.js';
import { renderResults, resultSource } from '../src/jobs/results-format.js';
import { rateLimitExempt } from '../src/limits/rate-limit.hook.js';
import { jobIdOf, redactUrl } from '../src/logging/logging.js';

/** The API's pure parts: token parsing, result rendering, which jobs' streams end, log fields. */

async function render(lines: string[], opts: Parameters<typeof renderResults>[1]): Promise<string> {
  async function* source(): AsyncGenerator<string> {
    yield* lines;
  }
  let out = '';
  for await (const chunk of renderResults(source(), opts)) out += chunk;
  return out;
}

const entry = (p: string) => JSON.stringify({ path: p, type: 'file', size: 3, mtime: '2025-01-02T03:04:05.000Z' });

describe('tokens', () => {
  it('parses token:scopes lists, expands admin ⊃ write ⊃ read and reports every problem', () => {
    const problems: string[] = [];
    const tokens = parseTokens('abc123:read,def456:read+write,adm789:admin', problems);
    expect(problems).toEqual([]);
    expect([...scopesOf(tokens, 'abc123')!]).toEqual(['read']);
    expect([...scopesOf(tokens, 'def456')!].sort()).toEqual(['read', 'write']);
    expect([...scopesOf(tokens, 'adm789')!].sort()).toEqual(['admin', 'read', 'write']);
    expect(scopesOf(tokens, 'abc12')).toBeUndefined();
    expect(scopesOf(tokens, '')).toBeUndefined();

    const bad: string[] = [];
    parseTokens('x:read,y:root,nocolon,:read,a b:read,x:write', bad);
    expect(bad).toHaveLength(5);
    expect(bad.join('\n')).not.toMatch(/\bx:|a b/);
    const none: string[] = [];
    expect(parseTokens(undefined, none)).toEqual([]);
    expect(none[0]).toMatch(/FILER_TOKENS: required/);
  });

  it('reads bearer headers strictly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('collects the API’s and the cluster’s configuration problems together', () => {
    expect(() => readApiConfig({ FILER_TOKENS: 'a:read', FILER_MAX_BODY_BYTES: 'lots', FILER_METRICS_PUBLIC: 'maybe' })).toThrow(
      /FILER_RESULTS_DIR[\s\S]*FILER_ALLOWED_ROOTS[\s\S]*FILER_MAX_BODY_BYTES[\s\S]*FILER_METRICS_PUBLIC/,
    );
    const c = readApiConfig({ FILER_TOKENS: 'a:read', FILER_RESULTS_DIR: '/tmp/r', FILER_ALLOWED_ROOTS: '/tmp' });
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', maxBodyBytes: 1024 * 1024, metricsPublic: false });
  });

  it('reads the rate limit and the idempotency key lifetime, 0 turning the limit off', () => {
    const base = { FILER_TOKENS: 'a:read', FILER_RESULTS_DIR: '/tmp/r', FILER_ALLOWED_ROOTS: '/tmp' };
    expect(readApiConfig(base)).toMatchObject({ rateLimit: { limit: 6000, windowMs: 60_000 }, idempotencyTtlMs: 86_400_000 });
    expect(readApiConfig({ ...base, FILER_RATE_LIMIT: '0' }).rateLimit).toBeUndefined();
    expect(
      readApiConfig({ ...base, FILER_RATE_LIMIT: '50', FILER_RATE_LIMIT_WINDOW_S: '5', FILER_IDEMPOTENCY_TTL_S: '3600' }),
    ).toMatchObject({
      rateLimit: { limit: 50, windowMs: 5000 },
      idempotencyTtlMs: 3_600_000,
    });
    expect(() =>
      readApiConfig({ ...base, FILER_RATE_LIMIT: '-1', FILER_RATE_LIMIT_WINDOW_S: '0', FILER_IDEMPOTENCY_TTL_S: 'day' }),
    ).toThrow(/FILER_RATE_LIMIT=-1[\s\S]*FILER_RATE_LIMIT_WINDOW_S=0[\s\S]*FILER_IDEMPOTENCY_TTL_S=day/);
  });

  it('gives each token an identity that is neither the token nor its digest', () => {
    const [a, b] = parseTokens('abc123:read,def456:write', []);
    expect(a.id).toMatch(/^[0-9a-f]{32}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.digest.toString('hex')).not.toContain(a.id);
    expect(parseTokens('abc123:admin', [])[0].id).toBe(a.id);
  });
});

describe('limits', () => {
  it('reads an Idempotency-Key, plain or as a structured-field string, and refuses a malformed one', () => {
    expect(idempotencyKey(undefined)).toBeUndefined();
    expect(idempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(idempotencyKey('"abc"')).toBe('abc');
    expect(idempotencyKey('a.b_c~d:e+f/g=')).toBe('a.b_c~d:e+f/g=');
    for (const bad of ['', '""', 'a b', 'a,b', 'x'.repeat(256), 'é', '"abc'])
      expect(() => idempotencyKey(bad), JSON.stringify(bad)).toThrow(/Idempotency-Key must be 1 to 255 characters/);
    expect(() => idempotencyKey(['a', 'b'])).toThrow(/given more than once/);
  });

  it('fingerprints a body regardless of key order, and tells different bodies apart', () => {
    const fp = requestFingerprint({ kind: 'find', roots: ['/a', '/b'], filter: { ext: 'txt', minSize: '1k' } });
    expect(requestFingerprint({ filter: { minSize: '1k', ext: 'txt' }, roots: ['/a', '/b'], kind: 'find' })).toBe(fp);
    expect(requestFingerprint({ kind: 'find', roots: ['/b', '/a'], filter: { ext: 'txt', minSize: '1k' } })).not.toBe(fp);
    expect(requestFingerprint({ kind: 'find', roots: ['/a', '/b'], filter: { ext: 'txt', minSize: 1000 } })).not.toBe(fp);
    expect(requestFingerprint({ a: null })).not.toBe(requestFingerprint({}));
  });

  it('exempts the probes only', () => {
    expect(rateLimitExempt('/health')).toBe(true);
    expect(rateLimitExempt('/health/ready')).toBe(true);
    expect(rateLimitExempt('/healthz')).toBe(false);
    expect(rateLimitExempt('/v1/jobs')).toBe(false);
    expect(rateLimitExempt('/metrics')).toBe(false);
  });
});

describe('results', () => {
  const lines = ['/r/a', '/r/b,c', '/r/d'].map(entry);

  it('renders find results as ndjson, csv, json and paths, page by page', async () => {
    const base = { shape: 'find', kind: 'find', cursor: 0 } as const;
    expect(await render(lines, { ...base, format: 'ndjson' })).toBe(lines.join('\n') + '\n');
    expect(await render(lines, { ...base, format: 'csv' })).toBe(
      'path,type,size,mtime\n/r/a,file,3,2025-01-02T03:04:05.000Z\n"/r/b,c",file,3,2025-01-02T03:04:05.000Z\n/r/d,file,3,2025-01-02T03:04:05.000Z\n',
    );
    expect(JSON.parse(await render(lines, { ...base, format: 'json' }))).toEqual(lines.map((l) => JSON.parse(l)));
    expect(await render(lines, { ...base, format: 'paths', cursor: 1, limit: 1 })).toBe('/r/b,c\n');
    expect(JSON.parse(await render(lines, { ...base, format: 'json', cursor: 3 }))).toEqual([]);
  });

  it('numbers dupe groups across pages and flattens batch lines', async () => {
    const groups = [1, 2].map((n) => JSON.stringify({ size: n, hash: `h${n}`, wasted: n, paths: [`/a${n}`, `/b${n}`] }));
    expect(await render(groups, { shape: 'dupes', kind: 'dupes', format: 'csv', cursor: 1 })).toBe(
      'group,size,hash,wasted,path\n2,2,h2,2,/a2\n2,2,h2,2,/b2\n',
    );
    const plan = [
      JSON.stringify({ action: 'copy', source: '/s/a', target: '/d/a', size: 1 }),
      JSON.stringify({ action: 'conflict', kind: 'exists', source: '/s/b', target: '/d/b', detail: 'target exists' }),
    ];
    expect(await render(plan, { shape: 'plan', kind: 'copy', format: 'csv', cursor: 0 })).toBe(
      'action,source,target,size,state,detail\ncopy,/s/a,/d/a,1,,\nconflict,/s/b,/d/b,,,exists: target exists\n',
    );
  });

  it('reads results only from a finished phase', () => {
    const rec = (kind: string, state: string, extra: Partial<JobRecord> = {}) =>
      ({ kind, state, spec: { options: {} }, ...extra }) as JobRecord;
    expect(resultSource(rec('find', 'completed'))?.part).toBe('scan');
    expect(resultSource(rec('find', 'running'))).toBeUndefined();
    expect(resultSource(rec('dupes', 'completed'))?.part).toBe('results');
    expect(resultSource(rec('copy', 'planned'))?.part).toBe('plan');
    expect(resultSource(rec('copy', 'applying'))).toBeUndefined();
    const applied = { apply: { done: 1, failed: 0, skipped: 0, undone: 0, pending: 0 } };
    expect(resultSource(rec('move', 'completed', applied))?.part).toBe('report');
    expect(resultSource(rec('move', 'undone', applied))?.part).toBe('report');
    expect(resultSource(rec('move', 'cancelled'))).toBeUndefined();
    // A dupes job with an action: its plan once planned, its report once applied (or purged).
    const dedupe = { spec: { options: { action: 'hardlink' } } } as unknown as Partial<JobRecord>;
    expect(resultSource(rec('dupes', 'planned', dedupe))).toEqual({ part: 'plan', shape: 'dedupe-plan' });
    expect(resultSource(rec('dupes', 'purged', { ...dedupe, ...applied }))?.part).toBe('report');
    expect(resultSource(rec('dupes', 'running', dedupe))).toBeUndefined();
  });
});

describe('event streams, logs and browser pages', () => {
  it('ends a stream on a final state, or on planned when nothing will be applied', () => {
    const rec = (state: string, apply: boolean, conflicts = 0) => ({ state, spec: { apply }, plan: { conflicts } }) as unknown as JobRecord;
    expect(streamEnds(rec('completed', false))).toBe(true);
    expect(streamEnds(rec('cancelled', false))).toBe(true);
    expect(streamEnds(rec('running', false))).toBe(false);
    expect(streamEnds(rec('planned', false))).toBe(true);
    expect(streamEnds(rec('planned', true))).toBe(false);
    expect(streamEnds(rec('planned', true, 2))).toBe(true);
  });

  it('finds the job id of a request and keeps tokens out of logged URLs', () => {
    expect(jobIdOf('/v1/jobs/0mwynj43dp7fq0y4v/results?format=csv')).toBe('0mwynj43dp7fq0y4v');
    expect(jobIdOf('/v1/jobs?state=completed')).toBeUndefined();
    expect(jobIdOf('/v1/jobs/..%2F')).toBeUndefined();
    expect(redactUrl('/admin/queues?x=1&token=s3cret&y=2')).toBe('/admin/queues?x=1&token=[redacted]&y=2');
  });

  it('knows which routes are browser pages and the scope each needs', () => {
    expect(browserPageScope('/admin/queues')).toBe('admin');
    expect(browserPageScope('/admin/queues/api/queues')).toBe('admin');
    expect(browserPageScope('/docs')).toBe('read');
    expect(browserPageScope('/docs-json')).toBe('read');
    expect(browserPageScope('/docs/*')).toBe('read');
    expect(browserPageScope('/v1/jobs')).toBeUndefined();
    expect(browserPageScope('/health')).toBeUndefined();
    expect(browserPageScope('/documents')).toBeUndefined();
  });
});

describe('errors', () => {
  it.each([
    ['E_NOT_FOUND', 404],
    ['E_CONFLICT', 409],
    ['E_CHANGED', 409],
    ['E_INVALID_ARGUMENT', 400],
    ['E_PATH_NOT_ALLOWED', 400],
  ] as const)('a FilerError %s thrown while serving a request answers %i with its code and message', (code, status) => {
    const err = toApiError(new FilerError(code, `job 0000000000abcdef: ${code}`));
    expect([err.status, err.body().error.code, err.body().error.message]).toEqual([status, code, `job 0000000000abcdef: ${code}`]);
  });

  it('a FilerError of the server itself (E_IO) is a 500 that tells nothing of it', () => {
    const err = toApiError(new FilerError('E_IO' satisfies FilerErrorCode, 'disk /srv/results failed'));
    expect([err.status, err.body()]).toEqual([500, { error: { code: 'E_IO', message: 'internal error' } }]);
  });
});
