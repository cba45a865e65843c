import { invalidArgument } from '@filer/core';

/**
 * When a job stops for its failures (`--max-failures`, the API's `maxFailures`): more than `count`
 * failed, or more than `percent` of those tried once at least MIN_TRIED were (S3 Batch
 * Operations' rule), so a bad first few of a large job do not stop it by chance.
 */
export type FailureLimit = { count: number; text: string } | { percent: number; text: string };

export const MIN_TRIED_FOR_PERCENT = 1000;

/** `N` (a whole number) or `P%` (0–100, decimals allowed); anything else is E_INVALID_ARGUMENT naming `field`. */
export function parseFailureLimit(text: string, field = 'maxFailures'): FailureLimit {
  const t = text.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pct !== null && Number(pct[1]) <= 100) return { percent: Number(pct[1]), text: t };
  if (/^\d+$/.test(t) && Number.isSafeInteger(Number(t))) return { count: Number(t), text: t };
  throw invalidArgument(field, text, `invalid failure limit '${text}': expected a number of items (10) or a percentage (5%)`);
}

/** Whether `failed` of `tried` goes past the limit. */
export function overFailureLimit(limit: FailureLimit, failed: number, tried: number): boolean {
  if ('count' in limit) return failed > limit.count;
  return tried >= MIN_TRIED_FOR_PERCENT && failed * 100 > limit.percent * tried;
}
