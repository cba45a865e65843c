import { invalidArgument } from '@filer/core';
import { isS3Uri, openSink, type BatchSink } from '@filer/storage';
import type { CliConfig } from '../config.js';

/**
 * FILER_S3_HEAD_GUARD=true: a HEAD right before each no-overwrite put on buckets that ignore
 * `If-None-Match: *`. Default false: there the planner's listing of the destination, taken in the
 * same run, is the check (a key written by someone else after it can be replaced).
 */
function headGuardFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const text = env.FILER_S3_HEAD_GUARD ?? '';
  if (text === '' || /^(0|false|no)$/i.test(text)) return false;
  if (/^(1|true|yes)$/i.test(text)) return true;
  throw invalidArgument('FILER_S3_HEAD_GUARD', text, `FILER_S3_HEAD_GUARD must be true or false, not '${text}'`);
}

/** The CLI's sink for a batch job (storage's openSink decides local or S3), with its settings from the environment. */
export function openCliSink(sources: readonly string[], targets: readonly string[], config: CliConfig): Promise<BatchSink> {
  const s3 = [...sources, ...targets].some(isS3Uri);
  return openSink(sources, targets, { native: config.nativeScan, headGuard: s3 && headGuardFromEnv() });
}
