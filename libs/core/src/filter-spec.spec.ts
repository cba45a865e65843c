import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseFilterSpec, type FilterSpec } from './filter-spec.js';
import { FilterInputSchema } from './filter-input-schema.js';
import { FilerError } from './errors.js';
import { expectInvalid } from './expect-invalid.spec-helper.js';

/** Asserts an E_INVALID_ARGUMENT FilerError about `field` (and, when given, `value`). */

const NOW = Date.UTC(2024, 5, 15, 12);
const DAY = 86_400_000;

const DEFAULTS: FilterSpec = {
  extensions: [],
  minSize: undefined,
  maxSize: undefined,
  newerThanMs: undefined,
  olderThanMs: undefined,
  names: [],
  regex: undefined,
  excludes: [],
  type: 'file',
  hidden: false,
  ignoreFiles: true,
  maxDepth: undefined,
  follow: false,
};

/** Random filter inputs, valid and invalid in shape and in content (including unknown keys and nulls). */
const filterInputArb = fc.dictionary(
  fc.constantFrom(
    'ext',
    'minSize',
    'maxSize',
    'newer',
    'older',
    'name',
    'regex',
    'exclude',
    'type',
    'hidden',
    'noIgnore',
    'maxDepth',
    'follow',
    'bogus',
  ),
  fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('1k', '7d', 'f', 'd', '3', '^a', '*.ts', '2024-05-01'),
    fc.integer({ min: -5, max: 5000 }),
    fc.double(),
    fc.boolean(),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }),
    fc.constant(null),
    fc.constant(undefined),
  ),
  { maxKeys: 5 },
);

describe('parseFilterSpec: defaults', () => {
  it('resolves an empty input to the defaults', () => {
    expect(parseFilterSpec({}, NOW)).toStrictEqual(DEFAULTS);
  });

  it('treats explicitly undefined fields as absent', () => {
    expect(parseFilterSpec({ ext: undefined, minSize: undefined, hidden: undefined }, NOW)).toStrictEqual(DEFAULTS);
  });

  it('produces a plain, JSON-serialisable spec that survives a round trip', () => {
    const spec = parseFilterSpec(
      {
        ext: 'ts',
        minSize: '1k',
        maxSize: 5000,
        newer: '7d',
        older: '2030-01-01T00:00:00Z',
        name: ['*.ts'],
        regex: '^a',
        exclude: ['dist'],
        type: 'd',
        hidden: true,
        noIgnore: true,
        maxDepth: 3,
        follow: true,
      },
      NOW,
    );
    expect(JSON.parse(JSON.stringify(spec))).toStrictEqual(spec);
  });

  it('uses the current time when no `now` is given', () => {
    const before = Date.now();
    const spec = parseFilterSpec({ newer: '1d' });
    const after = Date.now();
    expect(spec.newerThanMs).toBeGreaterThanOrEqual(before - DAY);
    expect(spec.newerThanMs).toBeLessThanOrEqual(after - DAY);
  });
});

describe('parseFilterSpec: fields', () => {
  it('ext: a comma-separated string or an array, normalised', () => {
    expect(parseFilterSpec({ ext: 'ts' }, NOW).extensions).toEqual(['ts']);
    expect(parseFilterSpec({ ext: 'ts,.MD, Rs' }, NOW).extensions).toEqual(['ts', 'md', 'rs']);
    expect(parseFilterSpec({ ext: ['.TXT', 'txt', 'tar.gz'] }, NOW).extensions).toEqual(['txt', 'tar.gz']);
    expect(parseFilterSpec({ ext: '' }, NOW).extensions).toEqual([]);
    expect(parseFilterSpec({ ext: ',,' }, NOW).extensions).toEqual([]);
    expect(parseFilterSpec({ ext: [] }, NOW).extensions).toEqual([]);
  });

  it('minSize / maxSize: size text or whole non-negative numbers of bytes', () => {
    expect(parseFilterSpec({ minSize: '2k' }, NOW).minSize).toBe(2000);
    expect(parseFilterSpec({ maxSize: '1.5GiB' }, NOW).maxSize).toBe(1.5 * 1024 ** 3);
    expect(parseFilterSpec({ minSize: 0 }, NOW).minSize).toBe(0);
    expect(parseFilterSpec({ minSize: 123, maxSize: '1Ki' }, NOW)).toMatchObject({ minSize: 123, maxSize: 1024 });
    expect(parseFilterSpec({ minSize: '0' }, NOW).minSize).toBe(0);
  });

  it('accepts min = max', () => {
    expect(parseFilterSpec({ minSize: '1k', maxSize: 1000 }, NOW)).toMatchObject({ minSize: 1000, maxSize: 1000 });
  });

  it('newer / older: relative ages against now, or ISO dates', () => {
    const spec = parseFilterSpec({ newer: '7d', older: '12h' }, NOW);
    expect(spec.newerThanMs).toBe(NOW - 7 * DAY);
    expect(spec.olderThanMs).toBe(NOW - DAY / 2);
    expect(parseFilterSpec({ newer: '2024-05-01' }, NOW).newerThanMs).toBe(new Date(2024, 4, 1).getTime());
    expect(parseFilterSpec({ older: '2024-05-01T12:00:00Z' }, NOW).olderThanMs).toBe(Date.UTC(2024, 4, 1, 12));
  });

  it('name / exclude: kept as given', () => {
    const spec = parseFilterSpec({ name: ['*.ts', 'Makefile'], exclude: ['node_modules', 'build/'] }, NOW);
    expect(spec.names).toEqual(['*.ts', 'Makefile']);
    expect(spec.excludes).toEqual(['node_modules', 'build/']);
  });

  it('regex: kept as given once it compiles', () => {
    expect(parseFilterSpec({ regex: '^(?i)readme' }, NOW).regex).toBe('^(?i)readme');
    expect(parseFilterSpec({ regex: '' }, NOW).regex).toBe('');
  });

  it('type: short or long names', () => {
    expect(parseFilterSpec({ type: 'f' }, NOW).type).toBe('file');
    expect(parseFilterSpec({ type: 'd' }, NOW).type).toBe('dir');
    expect(parseFilterSpec({ type: 'directory' }, NOW).type).toBe('dir');
    expect(parseFilterSpec({ type: 'L' }, NOW).type).toBe('symlink');
  });

  it('hidden / noIgnore / follow: booleans; noIgnore turns ignore files off', () => {
    expect(parseFilterSpec({ hidden: true }, NOW).hidden).toBe(true);
    expect(parseFilterSpec({ hidden: false }, NOW).hidden).toBe(false);
    expect(parseFilterSpec({ noIgnore: true }, NOW).ignoreFiles).toBe(false);
    expect(parseFilterSpec({ noIgnore: false }, NOW).ignoreFiles).toBe(true);
    expect(parseFilterSpec({ follow: true }, NOW).follow).toBe(true);
  });

  it('maxDepth: a whole number, as text or number', () => {
    expect(parseFilterSpec({ maxDepth: 3 }, NOW).maxDepth).toBe(3);
    expect(parseFilterSpec({ maxDepth: '3' }, NOW).maxDepth).toBe(3);
    expect(parseFilterSpec({ maxDepth: 0 }, NOW).maxDepth).toBe(0);
    expect(parseFilterSpec({ maxDepth: ' 12 ' }, NOW).maxDepth).toBe(12);
  });

  it('every field at once', () => {
    expect(
      parseFilterSpec(
        {
          ext: 'ts,md',
          minSize: '1k',
          maxSize: '1M',
          newer: '2w',
          older: '1d',
          name: ['*.spec.*'],
          regex: 'x$',
          exclude: ['dist'],
          type: 'f',
          hidden: true,
          noIgnore: true,
          maxDepth: '5',
          follow: true,
        },
        NOW,
      ),
    ).toStrictEqual({
      extensions: ['ts', 'md'],
      minSize: 1000,
      maxSize: 1_000_000,
      newerThanMs: NOW - 14 * DAY,
      olderThanMs: NOW - DAY,
      names: ['*.spec.*'],
      regex: 'x$',
      excludes: ['dist'],
      type: 'file',
      hidden: true,
      ignoreFiles: false,
      maxDepth: 5,
      follow: true,
    });
  });

  it('does not keep a reference to (or mutate) the input object', () => {
    const input = { ext: ['TXT'], name: ['*.txt'], exclude: ['x'] };
    const copy = structuredClone(input);
    parseFilterSpec(input, NOW);
    expect(input).toStrictEqual(copy);
  });
});

describe('parseFilterSpec: errors name the field', () => {
  it.each([
    [{ minSize: 'abc' }, 'minSize', 'abc'],
    [{ minSize: '' }, 'minSize', ''],
    [{ minSize: '-1' }, 'minSize', '-1'],
    [{ maxSize: '10XB' }, 'maxSize', '10XB'],
    [{ newer: 'yesterdayish' }, 'newer', 'yesterdayish'],
    [{ newer: '7 days' }, 'newer', '7 days'],
    [{ older: '2024-02-30' }, 'older', '2024-02-30'],
    [{ type: 'x' }, 'type', 'x'],
    [{ regex: '(a)\\1' }, 'regex', '(a)\\1'],
    [{ regex: '(?=a)' }, 'regex', '(?=a)'],
    [{ regex: '(' }, 'regex', '('],
    [{ maxDepth: '-1' }, 'maxDepth', '-1'],
    [{ maxDepth: '1.5' }, 'maxDepth', '1.5'],
    [{ maxDepth: 'abc' }, 'maxDepth', 'abc'],
    [{ maxDepth: '' }, 'maxDepth', ''],
  ] as const)('%j → %s', (input, field, value) => {
    const e = expectInvalid(() => parseFilterSpec(input, NOW), field, value);
    if (value !== '') expect(e.message).toContain(value);
  });

  it.each([
    [{ minSize: -1 }, 'minSize', '-1'],
    [{ minSize: 1.5 }, 'minSize', '1.5'],
    [{ minSize: 2 ** 53 }, 'minSize', String(2 ** 53)],
    [{ maxSize: true }, 'maxSize', 'true'],
    [{ maxDepth: -1 }, 'maxDepth', '-1'],
    [{ maxDepth: 2.5 }, 'maxDepth', '2.5'],
    [{ ext: 5 }, 'ext', '5'],
    [{ ext: [1] }, 'ext', '1'],
    [{ newer: 7 }, 'newer', '7'],
    [{ older: null }, 'older', 'null'],
    [{ regex: /x/ }, 'regex', '/x/'],
    [{ type: ['f'] }, 'type', 'f'],
    [{ name: 'x' }, 'name', 'x'],
    [{ exclude: [3] }, 'exclude', '3'],
    [{ hidden: 'yes' }, 'hidden', 'yes'],
    [{ noIgnore: 1 }, 'noIgnore', '1'],
    [{ follow: 'true' }, 'follow', 'true'],
  ] as const)('a value of the wrong type, %j, is rejected naming %s and the value', (input, field, value) => {
    const e = expectInvalid(() => parseFilterSpec(input, NOW), field, value);
    expect(e.message).toContain(field);
  });

  it('rejects empty strings in name and exclude lists, naming the list', () => {
    expectInvalid(() => parseFilterSpec({ name: ['*.ts', ''] }, NOW), 'name');
    expectInvalid(() => parseFilterSpec({ exclude: [''] }, NOW), 'exclude');
  });

  it('rejects min > max, naming minSize and both values', () => {
    const e = expectInvalid(() => parseFilterSpec({ minSize: '2k', maxSize: '1k' }, NOW), 'minSize', '2k');
    expect(e.message).toContain('2k');
    expect(e.message).toContain('1k');
    expectInvalid(() => parseFilterSpec({ minSize: 11, maxSize: 10 }, NOW), 'minSize', '11');
    expectInvalid(() => parseFilterSpec({ minSize: '1Ki', maxSize: '1K' }, NOW), 'minSize', '1Ki');
  });

  it('rejects unknown keys, naming them', () => {
    for (const key of ['foo', 'minsize', 'min_size', 'extensions', 'names', 'ignoreFiles', 'maxdepth']) {
      const e = expectInvalid(() => parseFilterSpec({ [key]: 1 }, NOW), key, '1');
      expect(e.message).toContain(key);
    }
    expectInvalid(() => parseFilterSpec({ ext: 'ts', extra: true }, NOW), 'extra', 'true');
  });

  it('rejects keys inherited from Object.prototype as unknown filters', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const raw = JSON.parse(`{"${key}": "x"}`) as unknown;
      expectInvalid(() => parseFilterSpec(raw, NOW), key, 'x');
    }
  });

  // BUG (minor, message only): FIELD_KINDS is a plain object, so checkShape() finds inherited members for
  // keys like 'constructor' or '__proto__' and reports them as a type error with a nonsense message,
  // "invalid filter 'constructor': expected a function Object() { [native code] }", instead of
  // "unknown filter 'constructor'" (they are still rejected, with the right field and value).
  it('BUG: keys inherited from Object.prototype are reported as unknown filters', () => {
    for (const key of ['constructor', '__proto__', 'toString']) {
      const raw = JSON.parse(`{"${key}": "x"}`) as unknown;
      expect(expectInvalid(() => parseFilterSpec(raw, NOW), key, 'x').message).toBe(`unknown filter '${key}'`);
    }
  });

  it('reads a missing body (null or undefined) as no filters', () => {
    expect(parseFilterSpec(null, NOW)).toStrictEqual(DEFAULTS);
    expect(parseFilterSpec(undefined, NOW)).toStrictEqual(DEFAULTS);
  });

  it.each([42, 'ext=ts', [], [{ ext: 'ts' }], true])('rejects the non-object input %j', (raw) => {
    expectInvalid(() => parseFilterSpec(raw, NOW), 'filter', String(raw));
  });

  it('names the offending value for type errors too', () => {
    const e = expectInvalid(() => parseFilterSpec({ minSize: -1 }, NOW), 'minSize', '-1');
    expect(e.message).toMatch(/whole number/);
  });

  // BUG: `ext` is documented (FilterInput, FilterInputSchema) as a string or a list of strings, and empty
  // extensions are simply dropped (ext: '' and ext: 'ts,,md' are fine), but checkShape() reuses the
  // "non-empty strings" test of name/exclude for ext arrays: parseFilterSpec({ ext: ['ts', ''] }) throws
  // E_INVALID_ARGUMENT "invalid filter 'ext': expected a string or a list of strings" although it is one,
  // and although FilterInputSchema (the request-validation form of the same shape) accepts it.
  it("BUG: an ext list with an empty string is accepted like ext: 'ts,' (empties dropped)", () => {
    expect(FilterInputSchema.safeParse({ ext: ['ts', ''] }).success).toBe(true);
    expect(parseFilterSpec({ ext: ['ts', ''] }, NOW).extensions).toEqual(['ts']);
  });

  it('stops at the first problem with an E_INVALID_ARGUMENT naming a field, never another error', () => {
    fc.assert(
      fc.property(filterInputArb, (raw) => {
        try {
          parseFilterSpec(raw, NOW);
        } catch (e) {
          expect(e).toBeInstanceOf(FilerError);
          expect((e as FilerError).code).toBe('E_INVALID_ARGUMENT');
          expect(typeof (e as FilerError).field).toBe('string');
          expect((e as FilerError).field).not.toBe('');
          expect(typeof (e as FilerError).value).toBe('string');
        }
      }),
    );
  });

  it('accepts only shapes the zod FilterInputSchema accepts, and rejects every shape it rejects', () => {
    fc.assert(
      fc.property(filterInputArb, (raw) => {
        let accepted = true;
        try {
          parseFilterSpec(raw, NOW);
        } catch {
          accepted = false;
        }
        if (accepted) expect(FilterInputSchema.safeParse(raw).success).toBe(true);
        if (!FilterInputSchema.safeParse(raw).success) expect(accepted).toBe(false);
      }),
    );
  });
});

describe('parseFilterSpec: properties', () => {
  it('numeric size bounds are accepted exactly when min <= max, and kept as given', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e12 }), fc.nat({ max: 1e12 }), (min, max) => {
        if (min <= max) {
          expect(parseFilterSpec({ minSize: min, maxSize: max }, NOW)).toMatchObject({ minSize: min, maxSize: max });
        } else {
          expectInvalid(() => parseFilterSpec({ minSize: min, maxSize: max }, NOW), 'minSize', String(min));
        }
      }),
    );
  });

  it('size text resolves as parseSize would, for random units', () => {
    const units: [string, number][] = [
      ['', 1],
      ['K', 1000],
      ['Ki', 1024],
      ['M', 1e6],
      ['Mi', 1024 ** 2],
      ['G', 1e9],
      ['Gi', 1024 ** 3],
    ];
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), fc.constantFrom(...units), (n, [unit, factor]) => {
        expect(parseFilterSpec({ maxSize: `${n}${unit}` }, NOW).maxSize).toBe(n * factor);
      }),
    );
  });

  it('relative ages resolve against the given now', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), fc.integer({ min: 0, max: 4_102_444_800_000 }), (days, now) => {
        expect(parseFilterSpec({ newer: `${days}d`, older: `${days}h` }, now)).toMatchObject({
          newerThanMs: now - days * DAY,
          olderThanMs: now - days * 3_600_000,
        });
      }),
    );
  });

  it('maxDepth text and number agree', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), (d) => {
        expect(parseFilterSpec({ maxDepth: String(d) }, NOW).maxDepth).toBe(d);
        expect(parseFilterSpec({ maxDepth: d }, NOW).maxDepth).toBe(d);
      }),
    );
  });

  it('ext as a comma list and as an array give the same extensions', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^\.?[A-Za-z0-9]{1,5}$/), { maxLength: 5 }), (exts) => {
        expect(parseFilterSpec({ ext: exts.join(',') }, NOW).extensions).toEqual(parseFilterSpec({ ext: exts }, NOW).extensions);
      }),
    );
  });
});
