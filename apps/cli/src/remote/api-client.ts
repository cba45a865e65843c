import { FilerError } from '@filer/core';
import { streamBody } from './http-body.js';

/** What a running hash, apply or undo phase has done of its total (the API's PhaseProgress). */
export interface RemotePhaseProgress {
  phase: string;
  files: number;
  filesTotal: number;
  bytes: number;
  bytesTotal: number;
}

/** The parts of a job record the CLI reads (the API's JobRecord). */
/** One outcome of `GET /v1/items`: what one job did to an item whose source or target is the path asked about. */
export interface RemoteItem {
  jobId: string;
  phase: string;
  action: string;
  source: string;
  target: string;
  size: number;
  state: string;
  code?: string;
  reason?: string;
  at: string;
}

export interface RemoteJob {
  id: string;
  kind: string;
  state: string;
  phase?: string;
  message?: string;
  /** Why a job failed, as a stable code. */
  code?: string;
  createdAt?: string;
  finishedAt?: string;
  counters: { dirs: number; entries: number; matched: number; bytes: number; errors: number; errorsByCode: Record<string, number> };
  shards: { total: number; done: number; failed: number };
  errorSample: { path: string; code: string; message: string }[];
  plan?: { actions: number; conflicts: number; bytes: number; unchanged: number; skipped: number; groups?: number };
  apply?: { done: number; failed: number; skipped: number; undone: number; pending: number };
  /** dupes with an action, once purged: quarantined copies deleted, their bytes, paths left. */
  purge?: { removed: number; bytes: number; left: number };
  dupes?: { groups: number; duplicateFiles: number; wastedBytes: number; filesHashed: number; bytesHashed: number };
  spec: { apply: boolean; options: Record<string, unknown> };
  /** Live, while a hash, apply or undo phase runs. */
  progress?: RemotePhaseProgress;
  /** Number of result records ready to read. */
  results?: number;
}

/** An answer of the API that was not a success, with its field errors when it was a 400. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    /** The API's stable code (`E_NOT_FOUND`, `E_FORBIDDEN`, …) when the body named one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** What a job verb asks the API to do (`POST /v1/jobs/:id/VERB`). */
export type JobVerb = 'apply' | 'resume' | 'cancel' | 'undo' | 'purge';

/**
 * The `Accept-Encoding` a results request sends: gzip (the API compresses ndjson about 12×, paths
 * about 13×) except to a loopback address, where bytes cost nothing and compressing and inflating a
 * million records costs more CPU than copying them (the API gzips 120–180 MB/s of body, and sends
 * plain bytes at disk speed). `identity` also keeps fetch from asking for gzip by itself.
 * FILER_RESULTS_ENCODING=gzip|identity overrides the guess (an SSH tunnel on localhost wants gzip).
 */
export function resultsEncoding(base: string, env: NodeJS.ProcessEnv = process.env): 'gzip' | 'identity' {
  const forced = env.FILER_RESULTS_ENCODING;
  if (forced === 'gzip' || forced === 'identity') return forced;
  const host = new URL(base).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) ? 'identity' : 'gzip';
}

/** A thin client of the Filer API: bearer token, JSON in and out, errors named. */
export class ApiClient {
  readonly base: string;
  /** What results requests ask for (resultsEncoding); fetch inflates a gzipped body as it streams. */
  readonly encoding: 'gzip' | 'identity';

  constructor(
    server: string,
    private readonly token: string | undefined,
  ) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new FilerError('E_INVALID_ARGUMENT', `invalid --server '${server}': expected a URL such as http://localhost:8080`, {
        field: 'server',
        value: server,
      });
    }
    this.base = url.href.replace(/\/+$/, '');
    this.encoding = resultsEncoding(this.base);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.base + path, { ...init, headers: this.headers(init.headers as Record<string, string>) });
    } catch (e) {
      throw new ApiError(
        0,
        `cannot reach ${this.base}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`,
      );
    }
    if (!res.ok) throw apiErrorOf(res.status, res.statusText, await res.text());
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.fetch(path, init)).json()) as T;
  }

  submit(spec: unknown): Promise<RemoteJob> {
    return this.json<RemoteJob>('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify(spec),
      headers: { 'content-type': 'application/json' },
    });
  }

  get(id: string): Promise<RemoteJob> {
    return this.json<RemoteJob>(`/v1/jobs/${encodeURIComponent(id)}`);
  }

  /** The newest jobs first, at most `limit` (the API allows up to 500). */
  async list(limit: number): Promise<RemoteJob[]> {
    return (await this.json<{ jobs: RemoteJob[] }>(`/v1/jobs?limit=${limit}`)).jobs;
  }

  /** What jobs did to `path` (its per-item outcomes), newest first: `GET /v1/items`. */
  async items(path: string, limit: number): Promise<RemoteItem[]> {
    return (await this.json<{ items: RemoteItem[] }>(`/v1/items?path=${encodeURIComponent(path)}&limit=${limit}`)).items;
  }

  /** Deletes a finished job (its record, parts and journals); `force` also an undoable one. */
  async remove(id: string, force: boolean): Promise<void> {
    await this.fetch(`/v1/jobs/${encodeURIComponent(id)}${force ? '?force=true' : ''}`, { method: 'DELETE' });
  }

  /** Asks the API to apply, resume, cancel or undo a job; the answer is its record once the change began. */
  act(id: string, verb: JobVerb): Promise<RemoteJob> {
    return this.json<RemoteJob>(`/v1/jobs/${encodeURIComponent(id)}/${verb}`, { method: 'POST' });
  }

  /** Every line of a job's results (NDJSON), streamed. */
  async *results(id: string): AsyncGenerator<string> {
    const res = await this.fetch(`/v1/jobs/${encodeURIComponent(id)}/results?format=ndjson`, {
      headers: { 'accept-encoding': this.encoding },
    });
    yield* readLines(res);
  }

  /** A job's results rendered by the API in `format`, as raw bytes (read with node:http: see streamBody). */
  async *resultBytes(id: string, format: string): AsyncGenerator<Uint8Array> {
    const url = `${this.base}/v1/jobs/${encodeURIComponent(id)}/results?format=${encodeURIComponent(format)}`;
    let res;
    try {
      res = await streamBody(url, this.headers({ 'accept-encoding': this.encoding }));
    } catch (e) {
      throw new ApiError(0, `cannot reach ${this.base}: ${(e as Error).message}`);
    }
    if (res.status < 200 || res.status > 299) throw apiErrorOf(res.status, res.statusText, await res.text());
    yield* res.body;
  }
}

/** The ApiError of an answer that was not a success: the API's message, first field error and code when its body is JSON. */
function apiErrorOf(status: number, statusText: string, text: string): ApiError {
  let message = text;
  let field: string | undefined;
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as {
      error?: { code?: string; message?: string; fields?: { field: string; message: string }[] };
      message?: string;
    };
    message = body.error?.fields?.[0]?.message ?? body.error?.message ?? body.message ?? text;
    field = body.error?.fields?.[0]?.field;
    code = body.error?.code;
  } catch {
    // not JSON: the text is the message
  }
  return new ApiError(status, `${status} ${statusText}: ${message}`, field, code);
}

/** Splits a streamed body into lines without holding it whole. */
export async function* readLines(res: Response): AsyncGenerator<string> {
  if (res.body === null) return;
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line !== '') yield line;
    }
  }
  rest += decoder.decode();
  if (rest !== '') yield rest;
}
