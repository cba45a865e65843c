import * as http from 'node:http';
import type { Registry } from 'prom-client';

/**
 * The small HTTP server of a worker: /health (the process is alive), /health/ready (its checks
 * pass) and /metrics. Bound to the given port; 0 picks a free one.
 */
export function startHealthServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  ready: () => Promise<Record<string, string>>;
}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (url === '/health') return send(200, 'application/json', '{"status":"ok"}');
    if (url === '/health/ready') {
      opts.ready().then(
        (checks) => {
          const ok = Object.values(checks).every((v) => v === 'ok');
          send(ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ok' : 'error', checks }));
        },
        (e: Error) => send(503, 'application/json', JSON.stringify({ status: 'error', error: e.message })),
      );
      return;
    }
    if (url === '/metrics') {
      opts.registry.metrics().then(
        (text) => send(200, opts.registry.contentType, text),
        (e: Error) => send(500, 'text/plain', e.message),
      );
      return;
    }
    send(404, 'application/json', '{"error":"not found"}');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve(server));
  });
}
