import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatSize, parseSize } from './size.js';
import { FilerError } from './errors.js';
import { expectInvalid } from './expect-invalid.spec-helper.js';

/** Every unit spelling parseSize documents, with its exact factor. */
const FACTORS: Record<string, bigint> = {
  '': 1n,
  B: 1n,
  K: 1000n,
  KB: 1000n,
  Ki: 1024n,
  KiB: 1024n,
  M: 1000n ** 2n,
  MB: 1000n ** 2n,
  Mi: 1024n ** 2n,
  MiB: 1024n ** 2n,
  G: 1000n ** 3n,
  GB: 1000n ** 3n,
  Gi: 1024n ** 3n,
  GiB: 1024n ** 3n,
  T: 1000n ** 4n,
  TB: 1000n ** 4n,
  Ti: 1024n ** 4n,
  TiB: 1024n ** 4n,
};
const UNIT_NAMES = Object.keys(FACTORS);
const BINARY_UNITS = UNIT_NAMES.filter((u) => u.includes('i'));
const DECIMAL_UNITS = UNIT_NAMES.filter((u) => /^[KMGT]B?$/.test(u));
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Exact bytes of `int.frac × factor`, rounded up, in integer arithmetic. */
function exactCeil(int: bigint, frac: string, factor: bigint): bigint {
  const den = 10n ** BigInt(frac.length);
  const num = int * den + BigInt(frac === '' ? '0' : frac);
  return (num * factor + den - 1n) / den;
}

const unitArb = fc.constantFrom(...UNIT_NAMES);
/** A unit in a random casing (`kib`, `KIB`, `kIb`…): units are case-insensitive. */
const casedUnitArb = unitArb.chain((u) => fc.mixedCase(fc.constant(u)).map((cased) => ({ unit: u, cased })));

describe('parseSize', () => {
  it('reads a bare number as bytes', () => {
    expect(parseSize('0')).toBe(0);
    expect(parseSize('1')).toBe(1);
    expect(parseSize('10')).toBe(10);
    expect(parseSize('123456789')).toBe(123456789);
  });

  it.each([
    ['10B', 10],
    ['10b', 10],
    ['2k', 2000],
    ['2K', 2000],
    ['2KB', 2000],
    ['2kb', 2000],
    ['2Ki', 2048],
    ['2KiB', 2048],
    ['2kib', 2048],
    ['2KIB', 2048],
    ['3M', 3_000_000],
    ['3MB', 3_000_000],
    ['3Mi', 3 * 1024 ** 2],
    ['3MiB', 3 * 1024 ** 2],
    ['4G', 4e9],
    ['4GB', 4e9],
    ['4Gi', 4 * 1024 ** 3],
    ['4GiB', 4 * 1024 ** 3],
    ['5T', 5e12],
    ['5TB', 5e12],
    ['5Ti', 5 * 1024 ** 4],
    ['5TiB', 5 * 1024 ** 4],
  ])('parses %s as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('uses powers of 1000 for decimal units and powers of 1024 for binary ones', () => {
    expect(parseSize('1K')).toBe(1000);
    expect(parseSize('1Ki')).toBe(1024);
    expect(parseSize('1M')).toBe(1000 ** 2);
    expect(parseSize('1Mi')).toBe(1024 ** 2);
    expect(parseSize('1G')).toBe(1000 ** 3);
    expect(parseSize('1Gi')).toBe(1024 ** 3);
    expect(parseSize('1T')).toBe(1000 ** 4);
    expect(parseSize('1Ti')).toBe(1024 ** 4);
  });

  it('accepts decimals', () => {
    expect(parseSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('1.5K')).toBe(1500);
    expect(parseSize('0.5Ki')).toBe(512);
    expect(parseSize('2.25M')).toBe(2_250_000);
    expect(parseSize('0.001G')).toBe(1_000_000);
    expect(parseSize('10.0')).toBe(10);
  });

  it('rounds a fractional byte count up to a whole byte', () => {
    expect(parseSize('0.5')).toBe(1);
    expect(parseSize('1.1')).toBe(2);
    expect(parseSize('0.0001K')).toBe(1);
    expect(parseSize('0.1Ki')).toBe(103); // 102.4 bytes
    expect(parseSize('1.0001')).toBe(2);
  });

  it('tolerates surrounding whitespace and whitespace before the unit', () => {
    expect(parseSize(' 10M ')).toBe(10_000_000);
    expect(parseSize('10 M')).toBe(10_000_000);
    expect(parseSize('\t2 KiB\n')).toBe(2048);
  });

  it('accepts the largest safe integer and rejects sizes past it as too large', () => {
    expect(parseSize(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseSize('8000Ti')).toBe(8000 * 1024 ** 4);
    expect(expectInvalid(() => parseSize('9007199254740992'), 'size', '9007199254740992').message).toMatch(/too large/);
    expect(expectInvalid(() => parseSize('10000T'), 'size', '10000T').message).toMatch(/too large/);
    expect(expectInvalid(() => parseSize('99999999999999999999999Ti'), 'size', '99999999999999999999999Ti').message).toMatch(/too large/);
  });

  it.each([
    '',
    ' ',
    '-1',
    '-1K',
    '+1',
    'abc',
    'K',
    'KiB',
    '.5K',
    '1.',
    '1.K',
    '1,5K',
    '1e3',
    '0x10',
    '1 K B',
    '10 20',
    'Infinity',
    'NaN',
    '١٢',
  ])('rejects %j as not a size', (text) => {
    const e = expectInvalid(() => parseSize(text), 'size', text);
    expect(e.message).toContain(`'${text}'`);
    expect(e.name).toBe('FilerError');
  });

  it.each(['10XB', '10PB', '10P', '10Pi', '10bytes', '10kB2', '10KiBs', '10Kib B', '1k b'])(
    'rejects %j (unknown or malformed unit)',
    (text) => {
      expectInvalid(() => parseSize(text), 'size', text);
    },
  );

  it('names the unknown unit as the user wrote it', () => {
    const e = expectInvalid(() => parseSize('10XB'), 'size', '10XB');
    expect(e.message).toContain("unknown unit 'XB'");
  });

  // BUG (minor): UNITS is a plain object, so the unit 'constructor' (any casing) finds the inherited
  // Object.prototype.constructor; the factor is a function, the product NaN, and the error claims the
  // size is "too large" instead of naming the unknown unit.
  it("BUG: an inherited object key used as a unit ('1constructor') is reported as an unknown unit", () => {
    const e = expectInvalid(() => parseSize('1constructor'), 'size', '1constructor');
    expect(e.message).toContain("unknown unit 'constructor'");
  });

  it('reports the field it was given', () => {
    expectInvalid(() => parseSize('abc', 'minSize'), 'minSize', 'abc');
    expectInvalid(() => parseSize('10XB', 'maxSize'), 'maxSize', '10XB');
    expectInvalid(() => parseSize('1e99', '--min-size'), '--min-size', '1e99');
  });

  describe('properties', () => {
    it('parseSize(`${n}${unit}`) is n × factor for whole n, in any casing of the unit', () => {
      const caseArb = casedUnitArb.chain(({ unit, cased }) => {
        const limit = MAX_SAFE / FACTORS[unit];
        return fc.bigInt({ min: 0n, max: limit < 10n ** 7n ? limit : 10n ** 7n }).map((n) => ({ unit, cased, n }));
      });
      fc.assert(
        fc.property(caseArb, fc.constantFrom('', ' '), ({ unit, cased, n }, sep) => {
          expect(parseSize(`${n}${sep}${cased}`)).toBe(Number(n * FACTORS[unit]));
        }),
      );
    });

    it('rejects every whole size whose byte count is not a safe integer', () => {
      const caseArb = unitArb.chain((unit) => {
        const first = MAX_SAFE / FACTORS[unit] + 1n;
        return fc.bigInt({ min: first, max: first * 1000n }).map((n) => ({ unit, n }));
      });
      fc.assert(
        fc.property(caseArb, ({ unit, n }) => {
          expect(n * FACTORS[unit] > MAX_SAFE).toBe(true);
          const text = `${n}${unit}`;
          expect(expectInvalid(() => parseSize(text), 'size', text).message).toMatch(/too large/);
        }),
      );
    });

    /** A unit from `units` and a whole part small enough that the byte count stays below 2^43 (≈ 8.8 TB). */
    const decimalSizeArb = (units: string[]) =>
      fc.constantFrom(...units).chain((unit) => {
        const limit = 2n ** 43n / FACTORS[unit] - 1n;
        return fc
          .tuple(fc.bigInt({ min: 0n, max: limit < 9999n ? limit : 9999n }), fc.stringMatching(/^\d{1,4}$/))
          .map(([int, frac]) => ({ unit, int, frac }));
      });

    it('rounds decimals in binary units up to exactly ⌈value × factor⌉', () => {
      fc.assert(
        fc.property(decimalSizeArb(['', 'B', ...BINARY_UNITS]), ({ unit, int, frac }) => {
          expect(parseSize(`${int}.${frac}${unit}`)).toBe(Number(exactCeil(int, frac, FACTORS[unit])));
        }),
      );
    });

    it('rounds decimals in decimal units to ⌈value × factor⌉, give or take one byte of floating-point error', () => {
      fc.assert(
        fc.property(decimalSizeArb(DECIMAL_UNITS), ({ unit, int, frac }) => {
          const got = BigInt(parseSize(`${int}.${frac}${unit}`));
          const exact = exactCeil(int, frac, FACTORS[unit]);
          expect(got >= exact && got <= exact + 1n).toBe(true);
        }),
      );
    });

    /** A unit and two whole numbers whose byte counts are safe integers. */
    const safePairArb = unitArb.chain((unit) => {
      const limit = Number(MAX_SAFE / FACTORS[unit]);
      const n = fc.integer({ min: 0, max: Math.min(limit, 100_000) });
      return fc.tuple(n, n).map(([a, b]) => ({ unit, a, b }));
    });

    it('never returns a negative, fractional or unsafe number', () => {
      fc.assert(
        fc.property(safePairArb, fc.stringMatching(/^(\.\d{1,3})?$/), ({ unit, a }, frac) => {
          fc.pre(a + 1 <= Number(MAX_SAFE / FACTORS[unit]));
          const bytes = parseSize(`${a}${frac}${unit}`);
          expect(Number.isSafeInteger(bytes)).toBe(true);
          expect(bytes).toBeGreaterThanOrEqual(0);
        }),
      );
    });

    it('is monotonic in the number for a fixed unit', () => {
      fc.assert(
        fc.property(safePairArb, ({ unit, a, b }) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(parseSize(`${lo}${unit}`)).toBeLessThanOrEqual(parseSize(`${hi}${unit}`));
        }),
      );
    });

    it('throws only FilerError E_INVALID_ARGUMENT carrying the input, for arbitrary text', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 12 }), (text) => {
          try {
            const bytes = parseSize(text, 'f');
            expect(Number.isSafeInteger(bytes) && bytes >= 0).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(FilerError);
            expect((e as FilerError).code).toBe('E_INVALID_ARGUMENT');
            expect((e as FilerError).field).toBe('f');
            expect((e as FilerError).value).toBe(text);
          }
        }),
      );
    });
  });

  // BUG: the decimal string is turned into a float and multiplied before Math.ceil, so binary
  // rounding error just above an exact whole number is "rounded up" into an extra byte:
  // 4.07 × 1000 = 4070.000000000001 → 4071. Binary units are unaffected (× 2^k is exact).
  it('BUG: decimals in decimal units that are whole byte counts parse exactly (4.07K = 4070, not 4071)', () => {
    expect(parseSize('4.07K')).toBe(4070);
    expect(parseSize('16.1K')).toBe(16_100);
    expect(parseSize('8.3M')).toBe(8_300_000);
    expect(parseSize('0.067G')).toBe(67_000_000);
    expect(parseSize('1.07GB')).toBe(1_070_000_000);
  });

  // BUG (same cause): large decimal sizes lose the fraction in float arithmetic and round DOWN,
  // although the doc promises rounding up: 2048.2Ti is exactly 2252019716010803.2 bytes, so it
  // should be 2252019716010804, but 2048.2 × 2^40 as a double is 2252019716010803.0 → 2252019716010803.
  it('BUG: large decimal sizes still round up (2048.2Ti = 2252019716010804)', () => {
    expect(parseSize('2048.2Ti')).toBe(2252019716010804);
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [10 * 1024, '10.0 KiB'],
    [1023 * 1024, '1023.0 KiB'],
    [1024 ** 2, '1.00 MiB'],
    [10 * 1024 ** 2, '10.0 MiB'],
    [1.5 * 1024 ** 3, '1.50 GiB'],
    [2 * 1024 ** 4, '2.00 TiB'],
    [1024 ** 5, '1.00 PiB'],
    [1024 ** 6, '1024.0 PiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('prints whole bytes below 1 KiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1023 }), (n) => {
        expect(formatSize(n)).toBe(`${n} B`);
      }),
    );
  });

  it('uses binary units with two decimals below 10 and one decimal from 10', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1024, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const text = formatSize(n);
        const m = /^(\d+)\.(\d+) (KiB|MiB|GiB|TiB|PiB)$/.exec(text);
        expect(m, text).not.toBeNull();
        const [, whole, decimals] = m!;
        expect(decimals.length, text).toBe(Number(whole) < 10 ? 2 : 1);
        expect(Number(whole), text).toBeLessThanOrEqual(1024);
      }),
    );
  });

  it('round-trips through parseSize to within rounding (0.5 % plus one byte) below 1 PiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1024 ** 5 - 1 }), (n) => {
        const back = parseSize(formatSize(n));
        expect(Math.abs(back - n)).toBeLessThanOrEqual(n * 0.005 + 1);
      }),
    );
  });

  it('round-trips exactly for whole multiples of a binary unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 4 }), (k, power) => {
        const n = k * 1024 ** power;
        expect(parseSize(formatSize(n))).toBe(n);
      }),
    );
  });

  it('is monotonic in the number of bytes it shows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1024 ** 5 - 1 }), fc.integer({ min: 0, max: 1024 ** 5 - 1 }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(parseSize(formatSize(lo))).toBeLessThanOrEqual(parseSize(formatSize(hi)));
      }),
    );
  });
});
