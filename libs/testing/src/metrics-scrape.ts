import * as http from 'node:http';

/** Something that serves Prometheus text at `<url>/metrics` (a cluster process). */
export interface MetricsSource {
  readonly url: string;
}

/** Every sample of `name` (any labels) in a Prometheus text exposition, as `{labels, value}`. */
export function metricSamples(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m !== null && m[1] === name) out.push({ labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

/**
 * Scrapes `/metrics` of a process, on a connection of its own: a pooled keep-alive socket left
 * from the cluster's /health polling may have been closed by the server meanwhile.
 */
export function scrapeMetrics(source: MetricsSource): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${source.url}/metrics`, { agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${source.url}/metrics answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${source.url}/metrics did not answer within 10 s`)));
    req.on('error', reject);
  });
}

/** The sum of every sample of `name` over the processes' /metrics (a counter summed over workers). */
export async function metricSum(sources: readonly MetricsSource[], name: string): Promise<number> {
  let sum = 0;
  for (const s of sources) for (const { value } of metricSamples(await scrapeMetrics(s), name)) sum += value;
  return sum;
}
