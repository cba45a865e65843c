import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port.js';

/** Debian's `postgresql` package (scripts/install-test-tools.sh installs it). */
export const POSTGRES_BIN = process.env.FILER_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A PostgreSQL server of the test's own, on a free loopback port with a temporary data directory. */
export interface PostgresHandle {
  port: number;
  /** `postgres://filer@127.0.0.1:<port>/filer` (trust authentication: loopback only, a throw-away cluster). */
  url: string;
  dir: string;
  /** Stops it (immediate shutdown: nothing here needs to survive) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * The binaries refuse to run as root: as root they run as `postgres`, which owns the directory;
 * as any other user, as that user.
 */
function runAs(): { prefix: string[]; owner?: { uid: number; gid: number } } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || uid <= 0)
    throw new Error("startPostgres: there is no `postgres` user (install Debian's postgresql package)");
  return { prefix: ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups'], owner: { uid, gid } };
}

/** One of the binaries with its arguments, behind `prefix` (setpriv) when there is one. */
function argv(prefix: string[], bin: string, args: string[]): [string, string[]] {
  const [cmd, ...rest] = [...prefix, path.join(POSTGRES_BIN, bin), ...args];
  return [cmd, rest];
}

function run(prefix: string[], bin: string, args: string[]): void {
  const r = spawnSync(...argv(prefix, bin, args), { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0)
    throw new Error(`${bin} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout || r.error?.message}`);
}

/**
 * Starts a PostgreSQL 15 of its own: `initdb` into a temporary directory, then `pg_ctl start` on a
 * free port bound to 127.0.0.1 only (its socket in that directory too), never touching the
 * machine's own server on 5432. Durability is off (`fsync=off`): tests lose the server, not the
 * machine. A database `filer` owned by the user `filer` is ready when this resolves (about a second).
 * The server is stopped when this process exits, if `stop()` was not called.
 */
export async function startPostgres(): Promise<PostgresHandle> {
  if (!fs.existsSync(path.join(POSTGRES_BIN, 'pg_ctl')))
    throw new Error(`startPostgres: ${POSTGRES_BIN}/pg_ctl is missing (Debian package postgresql; scripts/install-test-tools.sh)`);
  const { prefix, owner } = runAs();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-pg-'));
  const data = path.join(dir, 'data');
  if (owner !== undefined) fs.chownSync(dir, owner.uid, owner.gid);
  const stopNow = (): void => {
    spawnSync(...argv(prefix, 'pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']), { stdio: 'ignore', timeout: 30_000 });
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 10 });
  };
  try {
    run(prefix, 'initdb', ['-D', data, '-U', 'filer', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    run(prefix, 'pg_ctl', ['start', '-D', data, '-w', '-t', '30', '-l', path.join(dir, 'log'), '-o', options]);
    process.on('exit', stopNow);
    run(prefix, 'createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'filer', 'filer']);
  } catch (err) {
    stopNow();
    throw err;
  }
  return {
    port,
    url: `postgres://filer@127.0.0.1:${port}/filer`,
    dir,
    stop() {
      process.off('exit', stopNow);
      stopNow();
      return Promise.resolve();
    },
  };
}
