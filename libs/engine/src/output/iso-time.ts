const pad2 = (n: number): string => (n < 10 ? '0' + n : '' + n);
const pad3 = (n: number): string => (n < 10 ? '00' + n : n < 100 ? '0' + n : '' + n);

let cachedDay = NaN;
let cachedDayText = '';

/** `YYYY-MM-DDT` for a day count since the epoch (Hinnant's civil-from-days, proleptic Gregorian). */
function dayText(days: number): string {
  if (days === cachedDay) return cachedDayText;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  cachedDay = days;
  cachedDayText = y + '-' + pad2(m) + '-' + pad2(d) + 'T';
  return cachedDayText;
}

/**
 * Same text as `new Date(ms).toISOString()`, several times faster: the walker formats one per
 * file, and files in a directory tend to share a day.
 */
export function isoFromMs(ms: number): string {
  const t = Math.trunc(ms); // as Date does
  // Years 1000–9999 print as four digits with no sign; leave the rest to Date.
  if (!(t >= -30610224000000 && t < 253402300800000)) return new Date(ms).toISOString();
  const days = Math.floor(t / 86400000);
  let rem = t - days * 86400000;
  const h = Math.floor(rem / 3600000);
  rem -= h * 3600000;
  const mi = Math.floor(rem / 60000);
  rem -= mi * 60000;
  const s = Math.floor(rem / 1000);
  return dayText(days) + pad2(h) + ':' + pad2(mi) + ':' + pad2(s) + '.' + pad3(rem - s * 1000) + 'Z';
}
