import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port.js';
import { startRedis, type RedisHandle } from './redis-server.js';
import { appMain, REPO_ROOT } from './repo-paths.js';

/** What `startCluster` starts and how. */
export interface ClusterOptions {
  /** FILER_ALLOWED_ROOTS. */
  allowedRoots: string[];
  /** Scanner workers (default 2). */
  scanners?: number;
  /** Batch workers (default 1). */
  batch?: number;
  /** More environment for every process; wins over the cluster's own settings. */
  env?: Record<string, string>;
  /** A Redis to use (the caller stops it); by default one is started and stopped with the cluster. */
  redis?: RedisHandle;
  /** Start that Redis with an append-only file. */
  aof?: boolean;
  /** Start the API (default true); without it only the workers run and `url` is empty. */
  api?: boolean;
  /** The API's port (default: a free one). */
  apiPort?: number;
  /** The results directory (kept on stop); by default a temporary one, removed on stop. */
  resultsDir?: string;
  /** Every line a process writes, as it comes (the ring buffer behind `logs()` keeps the last ones either way). */
  onLine?: (name: string, line: string) => void;
  /** A process exited without being asked to by `kill`, `restart` or `stop`. */
  onUnexpectedExit?: (name: string, status: ExitStatus) => void;
  /** How long each process may take to answer /health (default 30 s). */
  startTimeoutMs?: number;
  /**
   * Run the API and the workers as this user and group (`setpriv`), as the image does (uid 1000):
   * as root, permissions never fail. The results directory is then made writable by everyone.
   */
  user?: { user: string; group: string };
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Bearer tokens of each scope; `write` may also read, `admin` may do everything. */
export interface ClusterTokens {
  read: string;
  write: string;
  admin: string;
}

/** One process of the cluster. */
export interface ClusterProcess {
  /** `api`, `scanner-1`, `scanner-2`, `batch-1`, … */
  readonly name: string;
  readonly pid: number;
  /** The port of its HTTP server: the API's, or a worker's health and metrics server. */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Resolves when the current process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends a signal (default SIGTERM) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGKILLs it if it still runs (as a crash would) and starts it again; resolves once /health answers. */
  restart(): Promise<void>;
  /** Its last output lines. */
  logs(): string;
}

export interface ClusterHandle {
  /** The API's base URL, `http://127.0.0.1:<port>` (empty without the API). */
  url: string;
  tokens: ClusterTokens;
  redis: RedisHandle;
  resultsDir: string;
  workers: ClusterProcess[];
  api: ClusterProcess | undefined;
  /** Calls the API: a bearer token when given, a JSON body when given. */
  request(method: string, urlPath: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** The last output lines of every process, each prefixed with its name: print it when a test fails. */
  logs(): string;
  /** Stops every process (SIGTERM, SIGKILL after 10 s), then Redis and the results directory when they are the cluster's own. */
  stop(): Promise<void>;
}

/** FILER_TOKENS: `token:scope+scope,…`. */
export function formatTokens(tokens: ClusterTokens): string {
  return [`${tokens.read}:read`, `${tokens.write}:read+write`, `${tokens.admin}:read+write+admin`].join(',');
}

/** A fresh random token. */
export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The last lines of every process, in arrival order. */
class LogRing {
  private readonly lines: string[] = [];
  constructor(private readonly capacity = 5000) {}

  push(name: string, line: string): void {
    this.lines.push(`[${name}] ${line}`);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  text(name?: string): string {
    const picked = name === undefined ? this.lines : this.lines.filter((l) => l.startsWith(`[${name}] `));
    return picked.join('\n');
  }
}

interface ProcessSpec {
  name: string;
  script: string;
  user?: { user: string; group: string };
  env: NodeJS.ProcessEnv;
  /** A fixed port (the API); without it the port is read from the worker's `worker started` log line. */
  port?: number;
  /**
   * With a fixed port: what the process logs once it listens there. /health is trusted only after
   * it, since a port found free may be taken by another test's server before this one binds it.
   */
  listenLine?: string;
  /** With a fixed port the caller did not choose: another free one, to start again on EADDRINUSE. */
  nextPort?: () => Promise<number>;
}

interface Hooks {
  ring: LogRing;
  onLine?: (name: string, line: string) => void;
  onUnexpectedExit?: (name: string, status: ExitStatus) => void;
  startTimeoutMs: number;
}

/** A child process of the cluster that can be killed and started again; it lives in its own process group. */
class ManagedProcess implements ClusterProcess {
  private child!: ChildProcess;
  private expected = false;
  private currentPort: number;
  private listened = false;
  exited!: Promise<ExitStatus>;

  constructor(
    private readonly spec: ProcessSpec,
    private readonly hooks: Hooks,
  ) {
    this.currentPort = spec.port ?? 0;
  }

  get name(): string {
    return this.spec.name;
  }
  get pid(): number {
    return this.child.pid ?? -1;
  }
  get port(): number {
    return this.currentPort;
  }
  get url(): string {
    return `http://127.0.0.1:${this.currentPort}`;
  }
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns it and resolves once its /health answers 200; rejects (with its output) when it exits first or takes too long. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (e) {
        // The port was free when it was picked, and taken before the process bound it: another one.
        if (this.spec.nextPort === undefined || attempt >= 3 || !this.logs().includes('EADDRINUSE')) throw e;
        const port = await this.spec.nextPort();
        this.spec.port = port;
        this.spec.env = { ...this.spec.env, FILER_API_PORT: String(port) };
      }
    }
  }

  private async startOnce(): Promise<void> {
    this.expected = false;
    this.currentPort = this.spec.port ?? 0;
    this.listened = this.spec.listenLine === undefined;
    const { user } = this.spec;
    // setpriv execs node in its place: the pid, signals and exit status are node's own.
    const [command, args] =
      user === undefined
        ? [process.execPath, [this.spec.script]]
        : ['setpriv', [`--reuid=${user.user}`, `--regid=${user.group}`, '--clear-groups', process.execPath, this.spec.script]];
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own group: a Ctrl-C at the terminal reaches only the parent, which stops the cluster in order.
      detached: true,
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const onLine = (line: string): void => {
      this.hooks.ring.push(this.name, line);
      this.hooks.onLine?.(this.name, line);
      if (!this.listened && line.includes(this.spec.listenLine!)) this.listened = true;
      if (this.currentPort === 0 && line.includes('"worker started"')) {
        try {
          const port = (JSON.parse(line) as { port?: unknown }).port;
          if (typeof port === 'number') this.currentPort = port;
        } catch {
          // not a JSON log line
        }
      }
    };
    forEachLine(child.stdout!, onLine);
    forEachLine(child.stderr!, onLine);
    void this.exited.then((status) => {
      if (!this.expected) this.hooks.onUnexpectedExit?.(this.name, status);
    });
    const deadline = Date.now() + this.hooks.startTimeoutMs;
    for (;;) {
      if (!this.running) {
        const status = await this.exited;
        throw new Error(`${this.name} exited during start-up (code ${status.code}, signal ${status.signal}):\n${this.logs()}`);
      }
      if (this.currentPort !== 0 && this.listened && (await answers(`${this.url}/health`))) return;
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not answer /health within ${this.hooks.startTimeoutMs} ms:\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    this.expected = true;
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL when it is still there after `graceMs`. */
  async stop(graceMs: number): Promise<ExitStatus | undefined> {
    if (this.child === undefined) return undefined;
    const timer = setTimeout(() => void this.kill('SIGKILL'), graceMs);
    try {
      return await this.kill('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Synchronous last resort when the parent process exits. */
  killNow(): void {
    this.expected = true;
    if (this.running) this.child.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.kill('SIGKILL');
    await this.start();
  }

  logs(): string {
    return this.hooks.ring.text(this.name);
  }
}

function forEachLine(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const p of parts) fn(p);
  });
  stream.on('end', () => {
    if (rest !== '') fn(rest);
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts a cluster of real processes from the built apps (`npm run build` first): Redis (unless
 * given), the API and the scanner and batch workers, each answering /health before this resolves.
 * Always `stop()` it (in afterAll): processes left over are SIGKILLed when this process exits.
 */
export async function startCluster(opts: ClusterOptions): Promise<ClusterHandle> {
  const withApi = opts.api ?? true;
  const scripts = { api: appMain('api'), scanner: appMain('scanner-worker'), batch: appMain('batch-worker') };
  for (const [app, script] of Object.entries(scripts))
    if ((app !== 'api' || withApi) && !fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);

  const ring = new LogRing();
  const hooks: Hooks = {
    ring,
    onLine: opts.onLine,
    onUnexpectedExit: opts.onUnexpectedExit,
    startTimeoutMs: opts.startTimeoutMs ?? 30_000,
  };
  const ownRedis = opts.redis === undefined;
  const redis = opts.redis ?? (await startRedis({ aof: opts.aof, detached: true }));
  const ownResults = opts.resultsDir === undefined;
  const resultsDir = opts.resultsDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'filer-results-'));
  if (opts.user !== undefined) fs.chmodSync(resultsDir, 0o777);
  const tokens: ClusterTokens = { read: randomToken(), write: randomToken(), admin: randomToken() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FILER_REDIS_URL: redis.url,
    FILER_RESULTS_DIR: resultsDir,
    FILER_ALLOWED_ROOTS: opts.allowedRoots.join(':'),
    FILER_TOKENS: formatTokens(tokens),
    FILER_WORKER_HOST: '127.0.0.1',
    FILER_API_HOST: '127.0.0.1',
    ...opts.env,
  };

  const processes: ManagedProcess[] = [];
  let api: ManagedProcess | undefined;
  if (withApi) {
    const port = opts.apiPort ?? (await freePort());
    api = new ManagedProcess(
      {
        name: 'api',
        script: scripts.api,
        env: { ...env, FILER_API_PORT: String(port) },
        port,
        user: opts.user,
        listenLine: 'filer-api listening on',
        ...(opts.apiPort === undefined ? { nextPort: freePort } : {}),
      },
      hooks,
    );
    processes.push(api);
  }
  const workers: ManagedProcess[] = [];
  const addWorkers = (app: 'scanner' | 'batch', n: number): void => {
    for (let i = 1; i <= n; i++)
      workers.push(
        new ManagedProcess({ name: `${app}-${i}`, script: scripts[app], env: { ...env, FILER_WORKER_PORT: '0' }, user: opts.user }, hooks),
      );
  };
  addWorkers('scanner', opts.scanners ?? 2);
  addWorkers('batch', opts.batch ?? 1);
  processes.push(...workers);

  const killAll = (): void => processes.forEach((p) => p.killNow());
  process.on('exit', killAll);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all(processes.map((p) => p.stop(10_000)));
      process.off('exit', killAll);
      if (ownRedis) await redis.stop();
      if (ownResults) fs.rmSync(resultsDir, { recursive: true, force: true });
    })());

  const url = api === undefined ? '' : `http://127.0.0.1:${api.port}`;
  const handle: ClusterHandle = {
    url,
    tokens,
    redis,
    resultsDir,
    workers,
    api,
    request(method, urlPath, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      return fetch(url + urlPath, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    },
    logs: () => ring.text(),
    stop,
  };
  const started = await Promise.allSettled(processes.map((p) => p.start()));
  const failures = started.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
  if (failures.length > 0) {
    await stop();
    throw new Error(`the cluster did not start:\n${failures.join('\n')}`);
  }
  return handle;
}
