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
