import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from './seeded-tree.js';

/** One request the proxy saw, in arrival order, and what it did with it. */
export interface ProxiedRequest {
  method: string;
  url: string;
  outcome: 'forwarded' | '503' | 'dropped';
  status?: number;
  /** When the request arrived, and when the server's answer came back (ms since the epoch, fractional). */
  at: number;
  answeredAt?: number;
  /** Request headers as received (lower-case names). */
  headers: http.IncomingHttpHeaders;
}

const now = (): number => performance.timeOrigin + performance.now();

export interface FaultProxyHandle {
  endpoint: string;
  log: ProxiedRequest[];
  /** Changes the fraction of requests that fail from now on. */
  setFailRate(rate: number): void;
  stop(): Promise<void>;
}

const SLOW_DOWN =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

/**
 * An HTTP proxy on loopback in front of `target` that fails a deterministic fraction of requests:
 * half of the failures are answered `503 SlowDown` (after reading the body, as S3 does), the other
 * half have their connection dropped before any answer. Everything else is forwarded unchanged
 * (the Host header too, so SigV4 signatures still match).
 */
export async function startFaultProxy(opts: { target: string; failRate: number; seed?: number }): Promise<FaultProxyHandle> {
  const target = new URL(opts.target);
  const random = mulberry32(opts.seed ?? 1);
  let failRate = opts.failRate;
  const log: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      outcome: 'forwarded',
      at: now(),
      headers: req.headers,
    };
    log.push(entry);
    const r = random();
    if (r < failRate) {
      if (r < failRate / 2) {
        entry.outcome = '503';
        req.resume();
        req.on('end', () => {
          res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(SLOW_DOWN) });
          res.end(SLOW_DOWN);
        });
      } else {
        entry.outcome = 'dropped';
        req.socket.destroy();
      }
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        entry.status = up.statusCode;
        entry.answeredAt = now();
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    setFailRate: (rate) => void (failRate = rate),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
