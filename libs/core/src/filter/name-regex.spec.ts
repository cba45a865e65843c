import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileNameRegexFilter } from './name-regex.js';
import { FilerError } from '../errors.js';
import { expectInvalid } from '../expect-invalid.spec-helper.js';

describe('compileNameRegexFilter', () => {
  it('is undefined without a pattern', () => {
    expect(compileNameRegexFilter(undefined)).toBeUndefined();
  });

  it('searches anywhere in the name, like fd', () => {
    const f = compileNameRegexFilter('test')!;
    expect(f('test')).toBe(true);
    expect(f('my_test_file.rs')).toBe(true);
    expect(f('tes')).toBe(false);
    expect(compileNameRegexFilter('\\.md')!('a.md.bak')).toBe(true);
  });

  it('anchors with ^ and $ for a whole-name match', () => {
    const f = compileNameRegexFilter('^test$')!;
    expect(f('test')).toBe(true);
    expect(f('test1')).toBe(false);
    expect(f('atest')).toBe(false);
    const end = compileNameRegexFilter('\\.md$')!;
    expect(end('README.md')).toBe(true);
    expect(end('a.md.bak')).toBe(false);
  });

  it('is case-sensitive unless (?i) is given', () => {
    expect(compileNameRegexFilter('readme')!('README.md')).toBe(false);
    expect(compileNameRegexFilter('(?i)readme')!('README.md')).toBe(true);
    expect(compileNameRegexFilter('(?i)^readme\\.MD$')!('readme.md')).toBe(true);
  });

  it('supports the usual RE2 syntax: classes, alternation, repetition, Perl and POSIX classes', () => {
    expect(compileNameRegexFilter('^[a-z]+\\d{2,3}\\.(jpe?g|png)$')!('img042.jpeg')).toBe(true);
    expect(compileNameRegexFilter('^[a-z]+\\d{2,3}\\.(jpe?g|png)$')!('img0420.png')).toBe(false);
    expect(compileNameRegexFilter('^\\w+$')!('snake_case1')).toBe(true);
    expect(compileNameRegexFilter('^[[:upper:]]+$')!('ABC')).toBe(true);
    expect(compileNameRegexFilter('^[[:upper:]]+$')!('AbC')).toBe(false);
    expect(compileNameRegexFilter('^(?P<stem>.+)\\.rs$')!('main.rs')).toBe(true);
    expect(compileNameRegexFilter('\\bfoo\\b')!('a-foo-b')).toBe(true);
  });

  it('treats the name as Unicode text', () => {
    expect(compileNameRegexFilter('^é.$')!('éx')).toBe(true);
    expect(compileNameRegexFilter('^.$')!('😀')).toBe(true);
    expect(compileNameRegexFilter('^\\p{Greek}+$')!('αβγ')).toBe(true);
  });

  it('an empty pattern matches every name', () => {
    const f = compileNameRegexFilter('')!;
    expect(f('')).toBe(true);
    expect(f('anything')).toBe(true);
  });

  it('can be reused: repeated calls give the same answers (no lastIndex-style state)', () => {
    const f = compileNameRegexFilter('a')!;
    expect([f('a'), f('a'), f('b'), f('a'), f('xa')]).toEqual([true, true, false, true, true]);
  });

  describe('runs in linear time (RE2), so no pattern can hang', () => {
    const aaab = 'a'.repeat(100_000) + 'b';

    it('^(a|a)*$ against 100k a’s and a b finishes quickly and does not match', () => {
      const f = compileNameRegexFilter('^(a|a)*$')!;
      const t0 = performance.now();
      expect(f(aaab)).toBe(false);
      expect(performance.now() - t0).toBeLessThan(2000);
    });

    it('(a+)+$ and (a*)*c on the same input finish quickly too', () => {
      const t0 = performance.now();
      expect(compileNameRegexFilter('^(a+)+$')!(aaab)).toBe(false);
      expect(compileNameRegexFilter('(a*)*c')!(aaab)).toBe(false);
      expect(compileNameRegexFilter('(x+x+)+y')!('x'.repeat(50_000))).toBe(false);
      expect(performance.now() - t0).toBeLessThan(3000);
    });

    it('still finds real matches in long inputs', () => {
      const t0 = performance.now();
      expect(compileNameRegexFilter('^(a|aa)*$')!('a'.repeat(100_000))).toBe(true);
      expect(compileNameRegexFilter('ab$')!(aaab)).toBe(true);
      expect(performance.now() - t0).toBeLessThan(2000);
    });
  });

  describe('errors', () => {
    it.each([
      ['(a)\\1', 'backreference'],
      ['(?P<x>a)(?P=x)', 'named backreference'],
      ['(?=a)', 'lookahead'],
      ['a(?!b)', 'negative lookahead'],
      ['(?<=a)b', 'lookbehind'],
      ['(?<!a)b', 'negative lookbehind'],
      ['a++', 'possessive quantifier'],
      ['(?>a)', 'atomic group'],
    ])('rejects %s (%s) with E_INVALID_ARGUMENT', (pattern) => {
      const e = expectInvalid(() => compileNameRegexFilter(pattern), 'regex', pattern);
      expect(e.message).toContain(`'${pattern}'`);
      expect(e.message).toMatch(/RE2/);
    });

    it.each(['(', ')', '[a-', '*', 'a{2,1}', '\\', 'x{1001}', '[z-a]'])('rejects the malformed pattern %j', (pattern) => {
      expectInvalid(() => compileNameRegexFilter(pattern), 'regex', pattern);
    });

    it('names the given field', () => {
      expectInvalid(() => compileNameRegexFilter('(a)\\1', '--regex'), '--regex', '(a)\\1');
    });

    it('property: compiling arbitrary text either succeeds or throws E_INVALID_ARGUMENT with the pattern', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 12 }), (pattern) => {
          try {
            const f = compileNameRegexFilter(pattern, 'r');
            expect(typeof f).toBe('function');
          } catch (e) {
            expect(e).toBeInstanceOf(FilerError);
            expect((e as FilerError).code).toBe('E_INVALID_ARGUMENT');
            expect((e as FilerError).field).toBe('r');
            expect((e as FilerError).value).toBe(pattern);
          }
        }),
      );
    });
  });

  describe('properties', () => {
    const wordArb = fc.stringMatching(/^[a-z0-9_]{0,6}$/);

    it('a literal pattern matches exactly the names containing it', () => {
      fc.assert(
        fc.property(fc.stringMatching(/^[a-z0-9_]{1,4}$/), fc.stringMatching(/^[a-z0-9_]{0,12}$/), (lit, name) => {
          expect(compileNameRegexFilter(lit)!(name)).toBe(name.includes(lit));
        }),
      );
    });

    it('^literal$ matches only the literal', () => {
      fc.assert(
        fc.property(wordArb, wordArb, (lit, name) => {
          expect(compileNameRegexFilter(`^${lit}$`)!(name)).toBe(name === lit);
        }),
      );
    });

    it('(?i) makes the match ignore case', () => {
      fc.assert(
        fc.property(fc.stringMatching(/^[a-z]{1,5}$/), fc.mixedCase(fc.stringMatching(/^[a-z]{0,10}$/)), (lit, name) => {
          expect(compileNameRegexFilter(`(?i)${lit}`)!(name)).toBe(name.toLowerCase().includes(lit));
        }),
      );
    });

    /** Small regular expressions (no backreferences or lookaround), where RE2 and JS agree on whether a match exists. */
    const regexArb = fc.letrec<{ re: string; atom: string }>((tie) => ({
      atom: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '\\d'),
        tie('re').map((r) => `(${r})`),
      ),
      re: fc.oneof(
        { depthSize: 'small' },
        tie('atom'),
        fc.tuple(tie('atom'), fc.constantFrom('*', '+', '?', '{1,2}')).map(([a, q]) => a + q),
        fc.tuple(tie('re'), tie('re')).map(([x, y]) => x + y),
        fc.tuple(tie('re'), tie('re')).map(([x, y]) => `${x}|${y}`),
      ),
    })).re;

    it('agrees with JavaScript RegExp on whether a name matches, for regular patterns', () => {
      fc.assert(
        fc.property(fc.boolean(), regexArb, fc.boolean(), fc.stringMatching(/^[ab1]{0,8}$/), (start, re, end, name) => {
          const pattern = `${start ? '^' : ''}(?:${re})${end ? '$' : ''}`;
          expect(compileNameRegexFilter(pattern)!(name)).toBe(new RegExp(pattern).test(name));
        }),
      );
    });
  });
});
