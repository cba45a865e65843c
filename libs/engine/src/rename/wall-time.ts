import { invalidArgument } from '@filer/core';

/** A date and time as a clock on the wall showed it: what cameras record and what file names want. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** The wall time of an instant in this process's time zone (for mtimes). */
export function localWallTime(epochMs: number): WallTime {
  const d = new Date(epochMs);
  return {
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
    millisecond: d.getMilliseconds(),
  };
}

const TOKEN_RE = /\[([^\]]*)\]|YYYY|YY|MM|M|DD|D|HH|H|mm|m|ss|s|SSS/g;
const pad = (n: number, w: number): string => String(n).padStart(w, '0');

const TOKENS: Record<string, (t: WallTime) => string> = {
  YYYY: (t) => pad(t.year, 4),
  YY: (t) => pad(t.year % 100, 2),
  MM: (t) => pad(t.month, 2),
  M: (t) => String(t.month),
  DD: (t) => pad(t.day, 2),
  D: (t) => String(t.day),
  HH: (t) => pad(t.hour, 2),
  H: (t) => String(t.hour),
  mm: (t) => pad(t.minute, 2),
  m: (t) => String(t.minute),
  ss: (t) => pad(t.second, 2),
  s: (t) => String(t.second),
  SSS: (t) => pad(t.millisecond, 3),
};

/**
 * Compiles a date format in the familiar Moment/Day.js tokens: `YYYY-MM-DD_HHmmss`.
 * Tokens: YYYY YY MM M DD D HH H mm m ss s SSS; text in [brackets] is literal; other characters are kept.
 */
export function compileDateFormat(format: string, field = 'date'): (t: WallTime) => string {
  if (format === '') throw invalidArgument(field, format, 'empty date format: use tokens like YYYY-MM-DD_HHmmss');
  const parts: ((t: WallTime) => string)[] = [];
  let last = 0;
  for (const m of format.matchAll(TOKEN_RE)) {
    if (m.index > last) {
      const lit = format.slice(last, m.index);
      parts.push(() => lit);
    }
    if (m[1] !== undefined) {
      const lit = m[1];
      parts.push(() => lit);
    } else parts.push(TOKENS[m[0]]);
    last = m.index + m[0].length;
  }
  if (last < format.length) {
    const lit = format.slice(last);
    parts.push(() => lit);
  }
  return (t) => parts.map((p) => p(t)).join('');
}
