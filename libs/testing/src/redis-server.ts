import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from './free-port.js';

/** A redis-server of the test's own, on a free loopback port with a temporary directory. */
export interface RedisHandle {
  port: number;
  url: string;
  dir: string;
  /**
   * Kills it with SIGKILL (as a crash would) and starts it again on the same port, directory and
   * settings, after `downMs` (default 0) with nothing listening.
   */
  restart(opts?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` bound to 127.0.0.1 only, never touching the machine's own Redis. With
 * `aof`, every write is appended and fsync'd each second, as the cluster runs in production;
 * without it nothing persists (`--appendonly no --save ''`), so a restart starts empty.
 * `detached` puts it in a process group of its own, so a Ctrl-C at the terminal reaches only its
 * parent, which stops it last (it is still killed, and its directory removed, when the parent exits).
 */
export async function startRedis(opts: { aof?: boolean; detached?: boolean; maxmemoryPolicy?: string } = {}): Promise<RedisHandle> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.aof ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    // Filer refuses any other policy (an evicting Redis can drop queued shards); tests of that refusal pass their own.
    '--maxmemory-policy',
    opts.maxmemoryPolicy ?? 'noeviction',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  let child: ChildProcess;
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    // It may still be writing for a moment: retry a directory that is not empty yet.
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 10 });
  };
  if (opts.detached) process.on('exit', killOnExit);
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore', detached: opts.detached ?? false });
    await waitForPort(port);
  };
  await launch();
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async restart(o = {}) {
      await kill('SIGKILL');
      if ((o.downMs ?? 0) > 0) await new Promise((r) => setTimeout(r, o.downMs));
      await launch();
    },
    async stop() {
      await kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
      process.off('exit', killOnExit);
    },
  };
}
