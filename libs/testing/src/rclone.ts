import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess, type ProcessResult } from './run-process.js';
import type { S3ServerHandle } from './s3-server.js';

/**
 * Runs Debian's rclone against a test S3 server as the remote `s3:` (configured through
 * RCLONE_CONFIG_S3_* variables, no config file). rclone refuses to start with AWS_CA_BUNDLE set,
 * even for an http endpoint, hence `env -u`.
 */
export function runRclone(
  server: Pick<S3ServerHandle, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'region'>,
  args: readonly string[],
  timeoutMs = 300_000,
): Promise<ProcessResult> {
  return runProcess('env', ['-u', 'AWS_CA_BUNDLE', 'rclone', '--config', '/dev/null', ...args], {
    timeoutMs,
    env: {
      RCLONE_CONFIG_S3_TYPE: 's3',
      RCLONE_CONFIG_S3_PROVIDER: 'Other',
      RCLONE_CONFIG_S3_ENDPOINT: server.endpoint,
      RCLONE_CONFIG_S3_ACCESS_KEY_ID: server.accessKeyId,
      RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      RCLONE_CONFIG_S3_REGION: server.region,
      RCLONE_CONFIG_S3_FORCE_PATH_STYLE: 'true',
    },
  });
}

/**
 * Uploads a local tree to `remote` (`s3:bucket/prefix/`) with rclone, as an independent client
 * seeding a test. s3rver stores some concurrent PUTs empty on a loaded machine: few transfers,
 * many retries, and with `check` a `rclone check` of the result. Throws when rclone fails.
 */
export async function uploadWithRclone(
  server: Parameters<typeof runRclone>[0],
  dir: string,
  remote: string,
  opts: { timeoutMs?: number; check?: boolean } = {},
): Promise<void> {
  const flags = ['--transfers', '4', '--checkers', '4', '--retries', '10', '--low-level-retries', '20', '--no-check-dest'];
  const up = await runRclone(server, ['copy', ...flags, dir, remote], opts.timeoutMs);
  if (up.code !== 0) throw new Error(`rclone copy ${dir} ${remote} failed (exit ${up.code}): ${up.stderr}`);
  if (!opts.check) return;
  const check = await runRclone(server, ['check', dir, remote]);
  if (check.code !== 0) throw new Error(`rclone check ${dir} ${remote} failed (exit ${check.code}): ${check.stderr}`);
}

/** What rclone sees under `remote`: relative key → MD5 (s3rver's ETag is the content MD5, multipart too). */
export async function rcloneMd5Listing(server: Parameters<typeof runRclone>[0], remote: string): Promise<Record<string, string>> {
  const r = await runRclone(server, ['lsjson', '-R', '--files-only', '--hash', remote]);
  if (r.code !== 0) throw new Error(`rclone lsjson ${remote} failed (exit ${r.code}): ${r.stderr}`);
  const rows = JSON.parse(r.stdout) as { Path: string; Hashes?: { md5?: string } }[];
  return Object.fromEntries(rows.map((x) => [x.Path, x.Hashes?.md5 ?? '']));
}

/** Relative path → MD5 of every file under `root` ({} when it does not exist), to compare with rcloneMd5Listing. */
export function md5Tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(root)) return out;
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    out[path.relative(root, p)] = createHash('md5').update(fs.readFileSync(p)).digest('hex');
  }
  return out;
}
