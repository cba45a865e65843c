import { invalidArgument } from './errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

const RELATIVE_RE = /^(\d+)(s|sec|m|min|h|d|w|y)$/i;
const DATE_ONLY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Date.parse rolls 2024-02-30 over into March; a user who typed it made a mistake. */
function isRealDay(text: string): boolean {
  const [y, mo, d] = [Number(text.slice(0, 4)), Number(text.slice(5, 7)), Number(text.slice(8, 10))];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === mo - 1 && probe.getUTCDate() === d;
}

/**
 * Parses a point in time given as a relative age (`30m`, `12h`, `7d`, `2w`: that long before `now`)
 * or an ISO date (`2024-05-01`, local midnight, as GNU find's -newermt reads it) or date-time
 * (`2024-05-01T12:00:00Z`; without an offset it is local time). Returns epoch milliseconds.
 */
export function parseTimePoint(text: string, now: number, field = 'time'): number {
  const trimmed = text.trim();
  const rel = RELATIVE_RE.exec(trimmed);
  if (rel) {
    return now - Number(rel[1]) * UNIT_MS[rel[2].toLowerCase()];
  }
  const dateOnly = DATE_ONLY_RE.exec(trimmed);
  if (dateOnly) {
    const [y, mo, d] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
    const t = new Date(y, mo - 1, d);
    if (t.getFullYear() !== y || t.getMonth() !== mo - 1 || t.getDate() !== d) {
      throw invalidArgument(field, text, `invalid date '${text}': no such day`);
    }
    return t.getTime();
  }
  if (DATE_TIME_RE.test(trimmed)) {
    const t = Date.parse(trimmed.replace(' ', 'T'));
    if (!Number.isNaN(t) && isRealDay(trimmed)) return t;
  }
  throw invalidArgument(field, text, `invalid time '${text}': expected an age like 30m, 12h, 7d, 2w or an ISO date like 2024-05-01`);
}
