import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** An s3rver of the test's own on a free loopback port, storing objects in a temporary directory. */
export interface S3ServerHandle {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** s3rver's store: one directory per bucket. */
  dir: string;
  createBucket(name: string): void;
  /** SIGKILLs the server (a crash), keeping its store; `restart` brings it back. */
  kill(): Promise<void>;
  /** Starts the server again on the same store and port (after `kill`, or killing the running one first). */
  restart(): Promise<void>;
  /** Environment for filer (FILER_S3_* and AWS_* credentials) pointed at this server, or at `endpoint`. */
  env(endpoint?: string): Record<string, string>;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('../scripts/s3rver-main.cjs', import.meta.url));

/**
 * Spawns s3rver 3.7.1 (`node --openssl-legacy-provider`: its continuation tokens use DES, which
 * OpenSSL 3 only offers there) with `buckets` made up front. Its delimiter listing and its PUT's
 * answer (only once the file is written) are patched at install (scripts/patch-s3rver.mjs); the
 * launcher refuses to start an unpatched copy.
 */
export async function startS3Server(opts: { buckets?: string[] } = {}): Promise<S3ServerHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3rver-'));
  let child: ChildProcess | undefined;
  const killOnExit = (): void => void child?.kill('SIGKILL');
  process.on('exit', killOnExit);
  /** Spawns s3rver on `dir` (and on `port` unless 0) and resolves with the port it listens on. */
  const spawnServer = (port: number): Promise<number> => {
    const c = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, dir, ...(opts.buckets ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Not our code: no V8 coverage (npm test's), which would only slow the S3 tests down.
      env: { ...process.env, S3RVER_PORT: String(port), NODE_V8_COVERAGE: undefined },
    });
    child = c;
    let stderr = '';
    c.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    return new Promise<number>((resolve, reject) => {
      let out = '';
      c.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
      });
      c.once('exit', (code) => reject(new Error(`s3rver exited (${code}): ${stderr}`)));
    });
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  const port = await spawnServer(0);
  const endpoint = `http://127.0.0.1:${port}`;
  const handle: S3ServerHandle = {
    endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    dir,
    createBucket(name) {
      // s3rver keeps a bucket as a directory of its store: making one is what its CreateBucket does.
      fs.mkdirSync(path.join(dir, name), { recursive: true });
    },
    env(at = endpoint) {
      return {
        FILER_S3_ENDPOINT: at,
        FILER_S3_REGION: 'us-east-1',
        FILER_S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      };
    },
    kill,
    async restart() {
      await kill();
      await spawnServer(port);
    },
    async stop() {
      process.off('exit', killOnExit);
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
