// GET /v1/jobs/:id/results timed from the request to the last byte, read with node:http (fetch
// would ask for gzip by itself and inflate on the way). The body is counted, not kept.
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';

/**
 * @param {{url: string, tokens: {read: string}}} cluster
 * @param {string} id job id
 * @param {string} query e.g. 'format=paths'
 * @param {{gzip?: boolean}} [opts] gzip: send `Accept-Encoding: gzip` and inflate what comes
 * @returns {Promise<{ms: number, wire: number, plain: number, encoding: string}>} wire = bytes received, plain = body bytes once inflated
 */
export function getResults(cluster, id, query, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const headers = { authorization: `Bearer ${cluster.tokens.read}`, 'accept-encoding': opts.gzip ? 'gzip' : 'identity' };
    const req = http.get(`${cluster.url}/v1/jobs/${id}/results?${query}`, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET results?${query}: ${res.statusCode}`));
        return;
      }
      let wire = 0;
      let plain = 0;
      const encoding = res.headers['content-encoding'] ?? 'identity';
      const body = encoding === 'gzip' ? res.pipe(zlib.createGunzip()) : res;
      res.on('data', (b) => (wire += b.length));
      body.on('data', (b) => (plain += b.length));
      body.on('end', () => resolve({ ms: performance.now() - t0, wire, plain, encoding }));
      body.on('error', reject);
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
