import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, startS3Server, type S3ServerHandle } from '@filer/testing';
import { createS3Client, s3ConfigFromEnv, S3Objects } from '@filer/storage/s3';

/**
 * Battery 29 in the CLI: a copy to S3 probes the destination bucket for conditional writes
 * (`If-None-Match: *` put twice) and says in its plan how strong its no-overwrite guard is. On
 * s3rver, which ignores the header, that is "weak no-clobber (racy)": existing keys are found by
 * the plan's listing (and by a HEAD before each put with FILER_S3_HEAD_GUARD=true), so a key that
 * another client writes between the listing and the put shows what "racy" means.
 */

const BUCKET = 'filer-noclobber';
const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';

let server: S3ServerHandle;
let work: string;
let env: Record<string, string>;
let objects: S3Objects;

interface Proxy {
  endpoint: string;
  /** `METHOD /path?query` of every request, in order. */
  seen: string[];
  stop(): Promise<void>;
}

/**
 * A proxy in front of s3rver. `honour`: answers 412 to a put with `If-None-Match: *` onto a key
 * it knows to exist (as AWS does). `inject`: once the first listing's answer is back from s3rver,
 * writes that object straight into the bucket before passing the (now stale) listing on — another
 * client's write landing between a plan and its apply.
 */
async function startProxy(opts: { honour?: boolean; inject?: { key: string; body: string } }): Promise<Proxy> {
  const target = new URL(server.endpoint);
  const stored = new Set<string>();
  let inject = opts.inject;
  const seen: string[] = [];
  const srv = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const key = decodeURIComponent(url.split('?')[0]);
    seen.push(`${req.method} ${url}`);
    if (opts.honour && req.method === 'PUT' && req.headers['if-none-match'] === '*' && stored.has(key)) {
      req.resume();
      req.on('end', () => {
        res.writeHead(412, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(PRECONDITION_FAILED) });
        res.end(PRECONDITION_FAILED);
      });
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: url, headers: req.headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const ok = (r.statusCode ?? 500) < 300;
        if (ok && req.method === 'PUT') stored.add(key);
        if (ok && req.method === 'DELETE') stored.delete(key);
        const send = (): void => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          res.end(Buffer.concat(chunks));
        };
        if (inject !== undefined && req.method === 'GET' && url.includes('list-type=2')) {
          const { key: k, body } = inject;
          inject = undefined;
          stored.add(`/${BUCKET}/${k}`);
          objects.putNew({ bucket: BUCKET, key: k }, Buffer.from(body)).then(send, (e: Error) => res.destroy(e));
        } else send();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

async function text(key: string): Promise<string | undefined> {
  if ((await objects.head({ bucket: BUCKET, key })) === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await objects.read({ bucket: BUCKET, key })) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** A source directory with a.txt ("mine") and b.txt. */
function source(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'a.txt'), 'mine');
  fs.writeFileSync(path.join(dir, 'b.txt'), 'bee');
  return dir;
}

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-noclobber-'));
  env = { ...server.env(), XDG_CACHE_HOME: path.join(work, 'cache') };
  Object.assign(process.env, server.env());
  objects = new S3Objects(createS3Client({ ...s3ConfigFromEnv(), endpoint: server.endpoint }));
});

afterAll(async () => {
  objects?.client.destroy();
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the no-clobber guard of a copy to S3, probed and said in the plan (battery 29)', () => {
  it('on s3rver: the probe finds no conditional writes, the plan says "weak no-clobber (racy)", the existing key is refused and kept', async () => {
    await objects.putNew({ bucket: BUCKET, key: 'exists/a.txt' }, Buffer.from('theirs'));
    const src = source('exists-src');
    for (const format of ['text', 'ndjson']) {
      const r = await runFiler(['copy', src, '--dest', `s3://${BUCKET}/exists/`, '--on-conflict', 'fail', '--format', format, '--apply'], {
        env,
      });
      expect(r.code, r.stderr).toBe(3);
      if (format === 'text') {
        expect(r.stdout).toContain(`CONFLICT target-exists: ${src}/a.txt → s3://${BUCKET}/exists/a.txt`);
        expect(r.stdout).toContain(`weak no-clobber (racy): s3://${BUCKET}/ ignores If-None-Match: *`);
      } else {
        const records = r.stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as { action: string; kind?: string; note?: string });
        expect(records.filter((x) => x.action === 'conflict').map((x) => x.kind)).toEqual(['target-exists']);
        expect(records.find((x) => x.action === 'note')?.note).toMatch(/^weak no-clobber \(racy\): /);
      }
      expect(r.stderr).toContain('1 conflicts: nothing was changed');
    }
    expect(await text('exists/a.txt')).toBe('theirs');
    expect(await text('exists/b.txt')).toBeUndefined();
  });

  it('a dry run writes nothing, not even the probe, and says the bucket is probed when applied', async () => {
    const proxy = await startProxy({});
    try {
      const r = await runFiler(['copy', source('dry-src'), '--dest', `s3://${BUCKET}/dry/`], {
        env: { ...env, ...server.env(proxy.endpoint) },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`no-clobber: s3://${BUCKET}/ is probed for If-None-Match: * when applied`);
      expect(proxy.seen.length).toBeGreaterThan(0);
      expect(proxy.seen.filter((s) => !s.startsWith('GET ') && !s.startsWith('HEAD '))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('racy: a key written after the plan’s listing is replaced by default, refused by FILER_S3_HEAD_GUARD’s HEAD, refused by a store that honours If-None-Match', async () => {
    const run = async (name: string, proxy: Proxy, extra: Record<string, string> = {}) => {
      const r = await runFiler(['copy', source(`${name}-src`), '--dest', `s3://${BUCKET}/${name}/`, '--apply'], {
        env: { ...env, ...server.env(proxy.endpoint), ...extra },
      });
      await proxy.stop();
      return r;
    };
    // The listing saw no a.txt; another client's a.txt arrives before the put, and s3rver ignores If-None-Match.
    const weak = await run('race-weak', await startProxy({ inject: { key: 'race-weak/a.txt', body: 'theirs' } }));
    expect(weak.code, weak.stderr).toBe(0);
    expect(weak.stdout).toContain('weak no-clobber (racy)');
    expect(await text('race-weak/a.txt')).toBe('mine'); // theirs was replaced: what the label warns of

    const guarded = await run('race-head', await startProxy({ inject: { key: 'race-head/a.txt', body: 'theirs' } }), {
      FILER_S3_HEAD_GUARD: 'true',
    });
    expect(guarded.code).toBe(1);
    expect(guarded.stdout).toContain('weak no-clobber (racy)');
    expect(guarded.stdout).toContain('and a HEAD before each put');
    expect(guarded.stderr).toMatch(/race-head\/a\.txt.*exists \(not overwritten\)/);
    expect(await text('race-head/a.txt')).toBe('theirs');
    expect(await text('race-head/b.txt')).toBe('bee');

    const strong = await run('race-412', await startProxy({ honour: true, inject: { key: 'race-412/a.txt', body: 'theirs' } }));
    expect(strong.code).toBe(1);
    expect(strong.stdout).toContain(`no-clobber: s3://${BUCKET}/ honours If-None-Match: *`);
    expect(strong.stdout).not.toContain('weak');
    expect(strong.stderr).toMatch(/race-412\/a\.txt.*exists \(not overwritten\)/);
    expect(await text('race-412/a.txt')).toBe('theirs');
    expect(await text('race-412/b.txt')).toBe('bee');
  });
});
