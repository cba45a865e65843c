import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type S3ServerHandle } from '@filer/testing';
import { createS3Client, s3ConfigFromEnv, S3FileOps, S3Objects } from '@filer/storage/s3';

/**
 * No-overwrite puts without the HEAD before each PUT: a store that honours `If-None-Match: *`
 * (here a proxy in front of s3rver answering 412 for a key it has stored) refuses the put, and the
 * refusal is a conflict (EEXIST), never an overwrite. On s3rver itself, which ignores the header,
 * only the HEAD guard (the default) or the caller's own check stands in the way.
 */

const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';

let server: S3ServerHandle;
let work: string;
let proxy: http.Server;
let proxyEndpoint: string;
/** Requests the proxy saw: method and key. */
const seen: string[] = [];

function startConditionalProxy(target: URL): Promise<http.Server> {
  const stored = new Set<string>();
  const srv = http.createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '/').split('?')[0]);
    seen.push(`${req.method} ${key}`);
    if (req.method === 'PUT' && req.headers['if-none-match'] === '*' && stored.has(key)) {
      req.resume();
      req.on('end', () => {
        res.writeHead(412, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(PRECONDITION_FAILED) });
        res.end(PRECONDITION_FAILED);
      });
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      if ((r.statusCode ?? 500) < 300) {
        if (req.method === 'PUT') stored.add(key);
        if (req.method === 'DELETE') stored.delete(key);
      }
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

function objectsAt(endpoint: string): S3Objects {
  return new S3Objects(createS3Client({ ...s3ConfigFromEnv(), endpoint }));
}

function file(name: string, text: string): string {
  const p = path.join(work, name);
  fs.writeFileSync(p, text);
  return p;
}

async function text(objects: S3Objects, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await objects.read({ bucket: 'filer-cond', key })) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

beforeAll(async () => {
  server = await startS3Server({ buckets: ['filer-cond'] });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3cond-'));
  Object.assign(process.env, server.env());
  proxy = await startConditionalProxy(new URL(server.endpoint));
  proxyEndpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('no-overwrite puts', () => {
  it('sends If-None-Match: * with no HEAD first when headGuard is off, and reports a refused put as EEXIST', async () => {
    const objects = objectsAt(proxyEndpoint);
    try {
      expect(await objects.supportsConditionalWrites('filer-cond')).toBe(true);
      const loc = { bucket: 'filer-cond', key: 'c/k' };
      seen.length = 0;
      await objects.upload(file('a', 'first'), loc, false, { headGuard: false });
      await expect(objects.upload(file('b', 'second'), loc, false, { headGuard: false })).rejects.toMatchObject({
        code: 'EEXIST',
        message: expect.stringContaining('exists (not overwritten)') as unknown,
      });
      // One PUT then the verifying HEAD; the refused PUT alone (nothing deleted).
      expect(seen).toEqual(['PUT /filer-cond/c/k', 'HEAD /filer-cond/c/k', 'PUT /filer-cond/c/k']);
      expect(await text(objects, loc.key)).toBe('first');
    } finally {
      objects.client.destroy();
    }
  });

  it('S3FileOps trusts the destination listing for stat, and the store still refuses a key written since', async () => {
    const objects = objectsAt(proxyEndpoint);
    try {
      const ops = new S3FileOps(objects, undefined, { headGuard: false });
      await objects.upload(file('theirs', 'theirs'), { bucket: 'filer-cond', key: 'd/late.txt' }, false);
      // A listing taken before `late.txt` appeared.
      ops.useListing('s3://filer-cond/d/', new Set(['s3://filer-cond/d/old.txt']));
      seen.length = 0;
      expect(await ops.stat('s3://filer-cond/d/late.txt')).toBeUndefined();
      expect(await ops.stat('s3://filer-cond/d/new.txt')).toBeUndefined();
      expect(seen).toEqual([]); // answered from the listing
      const [late, fresh] = await ops.stageMany(
        [
          { source: file('mine1', 'mine'), target: 's3://filer-cond/d/late.txt' },
          { source: file('mine2', 'mine'), target: 's3://filer-cond/d/new.txt' },
        ],
        'tag',
      );
      expect(late).toMatchObject({ code: 'EEXIST' });
      expect(fresh).toBe('s3://filer-cond/d/new.txt');
      expect(await text(objects, 'd/late.txt')).toBe('theirs');
      // The stat that journals the new object is the verifying HEAD's answer, not another request.
      seen.length = 0;
      expect(await ops.stat('s3://filer-cond/d/new.txt')).toMatchObject({ size: 4 });
      expect(seen).toEqual([]);
    } finally {
      objects.client.destroy();
    }
  });

  it('on s3rver (If-None-Match ignored) keeps the HEAD guard by default; without it the caller must have checked', async () => {
    const objects = objectsAt(server.endpoint);
    try {
      expect(await objects.supportsConditionalWrites('filer-cond')).toBe(false);
      const loc = { bucket: 'filer-cond', key: 'e/k' };
      await objects.upload(file('e1', 'first'), loc, false);
      await expect(objects.upload(file('e2', 'second'), loc, false)).rejects.toMatchObject({ code: 'EEXIST' });
      expect(await text(objects, loc.key)).toBe('first');
      // The documented limit of headGuard: false on such a store: nothing stops the put.
      await objects.upload(file('e3', 'third'), loc, false, { headGuard: false });
      expect(await text(objects, loc.key)).toBe('third');
    } finally {
      objects.client.destroy();
    }
  });
});
