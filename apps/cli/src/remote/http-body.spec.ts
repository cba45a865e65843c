import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './api-client.js';
import { streamBody } from './http-body.js';

describe('streamBody and ApiClient.resultBytes (node:http)', () => {
  const body = Buffer.from('/a/b\n/a/ü c\n'.repeat(5000));
  let server: http.Server;
  let base: string;
  const seen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      if (req.url!.startsWith('/v1/jobs/missing/')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'E_NOT_FOUND', message: 'no job missing' } }));
      } else if (req.headers['accept-encoding'] === 'gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end(gzipSync(body));
      } else {
        res.writeHead(200);
        res.end(body);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const read = async (it: AsyncIterable<Uint8Array>): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of it) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  };

  it('hands back the body as sent, and inflated when the server gzipped it', async () => {
    expect((await read((await streamBody(base + '/x', {})).body)).equals(body)).toBe(true);
    const gz = await streamBody(base + '/x', { 'accept-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect((await read(gz.body)).equals(body)).toBe(true);
  });

  it('resultBytes sends the token and turns an error answer into the API’s ApiError', async () => {
    const client = new ApiClient(base, 'T0KEN');
    expect((await read(client.resultBytes('j1', 'paths'))).equals(body)).toBe(true);
    expect(seen.at(-1)?.authorization).toBe('Bearer T0KEN');
    const err = await read(client.resultBytes('missing', 'paths')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: 'E_NOT_FOUND', message: '404 Not Found: no job missing' });
    const gone = await read(new ApiClient('http://127.0.0.1:1', undefined).resultBytes('j1', 'paths')).catch((e: unknown) => e);
    expect(gone).toMatchObject({ status: 0 });
  });
});
