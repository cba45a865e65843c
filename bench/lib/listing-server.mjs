// A synthetic S3 listing server on loopback for the scale-out benchmark: it answers HeadBucket and
// ListObjectsV2 (prefix, delimiter '/', max-keys, continuation-token) from a key list it generates,
// never from disk, and holds every answer `delayMs` before sending it — a real S3 round trip is
// latency-bound (tens of ms), which s3rver on loopback is not. Nothing else (GET, PUT) is served.
//
// Keys: d<i>/s<j>/f<k>.dat for i < top, j < sub, k < files (zero-padded, so their order is the
// numeric one), every object `size` bytes, one fixed LastModified.
import * as http from 'node:http';

const MODIFIED = '2026-01-02T03:04:05.000Z';
const pad = (n, width) => String(n).padStart(width, '0');

/**
 * Starts the server; resolves to { endpoint, bucket, keys, requests(), stop() }.
 * `requests()` counts the requests answered so far (ListObjectsV2 and HEAD alike); `setDelay(ms)` changes the delay.
 */
export async function startListingServer({ bucket = 'scale', top = 32, sub = 16, files = 100, size = 1, delayMs = 20 } = {}) {
  const w = { top: String(top - 1).length, sub: String(sub - 1).length, files: String(files - 1).length };
  const dirName = (i) => `d${pad(i, w.top)}/`;
  const subName = (i, j) => `${dirName(i)}s${pad(j, w.sub)}/`;
  const keyName = (i, j, k) => `${subName(i, j)}f${pad(k, w.files)}.dat`;
  let answered = 0;
  let delay = delayMs;

  /** One level of the tree below `prefix` (with Delimiter '/'): its common prefixes or its keys. */
  function level(prefix) {
    if (prefix === '') return { prefixes: Array.from({ length: top }, (_, i) => dirName(i)), keys: [] };
    const m = /^d(\d+)\/(?:s(\d+)\/)?$/.exec(prefix);
    if (m === null) return { prefixes: [], keys: [] };
    const i = Number(m[1]);
    if (i >= top || dirName(i) !== prefix.slice(0, dirName(i).length)) return { prefixes: [], keys: [] };
    if (m[2] === undefined) return { prefixes: Array.from({ length: sub }, (_, j) => subName(i, j)), keys: [] };
    const j = Number(m[2]);
    if (j >= sub) return { prefixes: [], keys: [] };
    return { prefixes: [], keys: Array.from({ length: files }, (_, k) => keyName(i, j, k)) };
  }

  function listXml(params) {
    const prefix = params.get('prefix') ?? '';
    const maxKeys = Math.max(1, Number(params.get('max-keys') ?? 1000));
    const start = Number(params.get('continuation-token') ?? 0);
    // Without a delimiter (a root check asks for one key): the first key below the prefix.
    const { prefixes, keys } =
      params.get('delimiter') === '/'
        ? level(prefix)
        : { prefixes: [], keys: prefix === '' || /^d\d+\//.test(prefix) ? [keyName(0, 0, 0)] : [] };
    const items = [...prefixes.map((p) => ({ p })), ...keys.map((k) => ({ k }))];
    const page = items.slice(start, start + maxKeys);
    const truncated = start + maxKeys < items.length;
    return (
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
      `<IsTruncated>${truncated}</IsTruncated>` +
      (truncated ? `<NextContinuationToken>${start + maxKeys}</NextContinuationToken>` : '') +
      page
        .filter((x) => x.k !== undefined)
        .map(
          (x) =>
            `<Contents><Key>${x.k}</Key><LastModified>${MODIFIED}</LastModified><ETag>"0"</ETag><Size>${size}</Size>` +
            `<StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join('') +
      page
        .filter((x) => x.p !== undefined)
        .map((x) => `<CommonPrefixes><Prefix>${x.p}</Prefix></CommonPrefixes>`)
        .join('') +
      `</ListBucketResult>`
    );
  }

  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url, 'http://listing');
      const path = url.pathname.replace(/^\/+/, '');
      let status = 200;
      let body = '';
      if (path !== bucket && path !== bucket + '/') status = 404;
      else if (req.method === 'GET' && url.searchParams.get('list-type') === '2') body = listXml(url.searchParams);
      else if (req.method !== 'HEAD') status = 400;
      setTimeout(() => {
        answered++;
        res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      }, delay);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${server.address().port}`;
  return {
    endpoint,
    bucket,
    keys: top * sub * files,
    /** Listings a full walk makes: the root, each top-level prefix, each leaf prefix (pages of 1,000). */
    listings: 1 + top + top * sub * Math.ceil(files / 1000),
    requests: () => answered,
    /** Changes the delay of the answers from now on. */
    setDelay: (ms) => void (delay = ms),
    env: () => ({
      FILER_S3_ENDPOINT: endpoint,
      FILER_S3_REGION: 'us-east-1',
      FILER_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    }),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
