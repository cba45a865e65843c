import { pipeline, type Readable } from 'node:stream';
import { constants, createGzip } from 'node:zlib';

/**
 * Whether an `Accept-Encoding` header takes gzip: listed (or `*`) with a q-value above 0.
 * `identity` is always acceptable, so anything else — absent, unparsable — gets the bytes as they are.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  let star = false;
  for (const item of value.split(',')) {
    const [name, ...params] = item.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const ok = q === undefined || Number(q) > 0;
    if (name === 'gzip' || name === 'x-gzip') return ok;
    if (name === '*') star = ok;
  }
  return star;
}

/**
 * The body gzipped on the fly. Level 1: results are repetitive text (paths under a few roots,
 * the same keys on every line) that level 1 already shrinks about 12×, faster than the default
 * level: a client on a network gains; on loopback plain bytes are faster (the CLI asks for those).
 */
export function gzipped(body: Readable): Readable {
  const gz = createGzip({ level: 1, chunkSize: 1 << 16, flush: constants.Z_NO_FLUSH });
  return pipeline(body, gz, () => undefined);
}
