import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { kindMatches, parseTypeFilter, type TypeFilter } from './entry-type.js';
import type { EntryKind } from '../file-entry.js';
import { expectInvalid } from '../expect-invalid.spec-helper.js';

const ALIASES: [string, TypeFilter][] = [
  ['f', 'file'],
  ['file', 'file'],
  ['d', 'dir'],
  ['dir', 'dir'],
  ['directory', 'dir'],
  ['l', 'symlink'],
  ['symlink', 'symlink'],
];

describe('parseTypeFilter', () => {
  it.each(ALIASES)('reads %j as %s', (text, type) => {
    expect(parseTypeFilter(text)).toBe(type);
  });

  it('ignores case and surrounding whitespace', () => {
    expect(parseTypeFilter('F')).toBe('file');
    expect(parseTypeFilter(' D ')).toBe('dir');
    expect(parseTypeFilter('Directory')).toBe('dir');
    expect(parseTypeFilter('\tSYMLINK\n')).toBe('symlink');
  });

  it('property: every alias in every casing and padding parses', () => {
    const casedAlias = fc
      .constantFrom(...ALIASES)
      .chain(([text, type]) => fc.mixedCase(fc.constant(text)).map((cased) => ({ cased, type })));
    fc.assert(
      fc.property(casedAlias, fc.constantFrom('', ' ', '  ', '\t'), ({ cased, type }, pad) => {
        expect(parseTypeFilter(pad + cased + pad)).toBe(type);
      }),
    );
  });

  it.each(['', ' ', 'x', 'files', 'dirs', 'link', 'other', 'p', 's', 'fd', 'f,d', 'file dir', 'symlinks', 'e', 'x'])(
    'rejects %j',
    (text) => {
      const e = expectInvalid(() => parseTypeFilter(text), 'type', text);
      expect(e.message).toContain(`'${text}'`);
      expect(e.message).toMatch(/f \(file\)/);
    },
  );

  it('names the given field', () => {
    expectInvalid(() => parseTypeFilter('q', '--type'), '--type', 'q');
  });

  it('does not accept camel-case Object.prototype method names as aliases', () => {
    for (const text of ['toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      expectInvalid(() => parseTypeFilter(text), 'type', text);
    }
  });

  // BUG: ALIASES is a plain object literal, so the lookup ALIASES[text.trim().toLowerCase()] also
  // finds inherited Object.prototype members whose names are already lower case. parseTypeFilter('constructor')
  // returns the global `Object` function and parseTypeFilter('__proto__') returns Object.prototype instead of
  // throwing E_INVALID_ARGUMENT; parseFilterSpec({ type: 'constructor' }) then yields a spec whose `type`
  // matches no entry kind (and vanishes when the spec is serialised as JSON).
  it('BUG: rejects inherited object keys such as "constructor" and "__proto__"', () => {
    for (const text of ['constructor', '__proto__', 'CONSTRUCTOR']) {
      expectInvalid(() => parseTypeFilter(text), 'type', text);
    }
  });

  it('property: anything else is rejected with E_INVALID_ARGUMENT', () => {
    const known = new Set(ALIASES.map(([t]) => t));
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), (text) => {
        const key = text.trim().toLowerCase();
        // Inherited keys (constructor, __proto__) are the known bug documented above.
        fc.pre(!known.has(key) && !(key in {}));
        expectInvalid(() => parseTypeFilter(text), 'type', text);
      }),
    );
  });
});

describe('kindMatches', () => {
  const types: TypeFilter[] = ['file', 'dir', 'symlink'];
  const kinds: EntryKind[] = ['file', 'dir', 'symlink', 'other'];

  it.each(types.flatMap((t) => kinds.map((k) => [t, k] as const)))('type %s vs kind %s', (type, kind) => {
    expect(kindMatches(type, kind)).toBe((type as string) === kind);
  });

  it('never matches "other" entries (sockets, fifos, devices)', () => {
    expect(types.some((t) => kindMatches(t, 'other'))).toBe(false);
  });
});
