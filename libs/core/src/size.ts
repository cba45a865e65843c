import { invalidArgument } from './errors.js';

const UNITS: ReadonlyMap<string, number> = new Map(
  Object.entries({
    '': 1,
    b: 1,
    k: 1e3,
    kb: 1e3,
    ki: 1024,
    kib: 1024,
    m: 1e6,
    mb: 1e6,
    mi: 1024 ** 2,
    mib: 1024 ** 2,
    g: 1e9,
    gb: 1e9,
    gi: 1024 ** 3,
    gib: 1024 ** 3,
    t: 1e12,
    tb: 1e12,
    ti: 1024 ** 4,
    tib: 1024 ** 4,
  }),
);

const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/;

/**
 * Parses a size such as `10`, `2k`, `1.5GiB` into bytes (rounded up to a whole byte).
 * Decimal units (K, KB, M…) are powers of 1000, binary ones (Ki, KiB, Mi…) powers of 1024.
 */
export function parseSize(text: string, field = 'size'): number {
  const m = SIZE_RE.exec(text);
  if (!m) {
    throw invalidArgument(field, text, `invalid size '${text}': expected a number and an optional unit, e.g. 10M or 1.5GiB`);
  }
  const unit = m[2].toLowerCase();
  const factor = UNITS.get(unit);
  if (factor === undefined) {
    throw invalidArgument(field, text, `invalid size '${text}': unknown unit '${m[2]}' (use B, K, KB, Ki, KiB, M, Mi, G, Gi, T or Ti)`);
  }
  // Exact decimal arithmetic: 4.07K is 4070 bytes, not 4070.000000000001 rounded up to 4071.
  const [whole, frac = ''] = m[1].split('.');
  const scale = 10n ** BigInt(frac.length);
  const scaled = (BigInt(whole) * scale + BigInt(frac === '' ? '0' : frac)) * BigInt(factor);
  const exact = scaled / scale + (scaled % scale === 0n ? 0n : 1n);
  const bytes = Number(exact);
  if (exact > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(field, text, `invalid size '${text}': too large`);
  }
  return bytes;
}

const HUMAN_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Formats bytes for people, in binary units: `1.5 GiB`. */
export function formatSize(bytes: number): string {
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < HUMAN_UNITS.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${HUMAN_UNITS[i]}`;
}
