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
  /** Environment for filer (FILER_S3_* and AWS_* credentials) pointed at this server, or at `endpoint`. */
  env(endpoint?: string): Record<string, string>;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('../scripts/s3rver-main.cjs', import.meta.url));

/**
 * Spawns s3rver 3.7.1 (`node --openssl-legacy-provider`: its continuation tokens use DES, which
 * OpenSSL 3 only offers there) with `buckets` made up front. Its delimiter listing is patched at
 * install (scripts/patch-s3rver.mjs); the launcher refuses to start an unpatched copy.
 */
export async function startS3Server(opts: { buckets?: string[] } = {}): Promise<S3ServerHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, dir, ...(opts.buckets ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}): ${stderr}`)));
  });
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
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
