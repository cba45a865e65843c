import * as path from 'node:path';
import { ExitCode } from '@filer/core';
import type { CliContext } from '../cli-context.js';
import type { ApiClient, RemoteItem } from './api-client.js';

/** As many outcomes as one answer of the API holds at most. */
const FIND_PATH_LIMIT = 1_000;

/** One outcome a line: when, which job, what it did, both paths, and a failure's code. */
function itemLine(i: RemoteItem): string {
  const what = `${i.action}${i.phase === 'undo' ? ' (undo)' : ''}`;
  return `${i.at}  ${i.jobId}  ${what.padEnd(6)} ${i.state.padEnd(7)} ${i.source} → ${i.target}${i.code ? `  [${i.code}]` : ''}\n`;
}

/**
 * `filer --server URL jobs find-path PATH`: which of the cluster's jobs touched PATH and what they
 * did, newest first. A relative PATH is made absolute against the working directory (the cluster
 * journals absolute paths); an s3:// URI is sent as it is. Exit 0 with nothing printed when no job
 * touched it.
 */
export async function findPath(client: ApiClient, raw: string, ndjson: boolean, ctx: CliContext): Promise<number> {
  const target = raw.startsWith('s3://') ? raw : path.resolve(raw);
  const items = await client.items(target, FIND_PATH_LIMIT);
  ctx.stdout(items.map((i) => (ndjson ? JSON.stringify(i) + '\n' : itemLine(i))).join(''));
  return ExitCode.Ok;
}
