import { describe, expect, it } from 'vitest';
import { overFailureLimit, parseFailureLimit } from './failure-limit.js';

describe('failure limits', () => {
  it('parses a count or a percentage and refuses anything else', () => {
    expect(parseFailureLimit('10')).toEqual({ count: 10, text: '10' });
    expect(parseFailureLimit('2.5%')).toEqual({ percent: 2.5, text: '2.5%' });
    for (const bad of ['', '-1', '1.5', '101%', '%', 'ten', '5 %'])
      expect(() => parseFailureLimit(bad), bad).toThrow(/invalid failure limit/);
  });

  it('a count is passed by one more failure', () => {
    expect(overFailureLimit({ count: 3, text: '3' }, 3, 10)).toBe(false);
    expect(overFailureLimit({ count: 3, text: '3' }, 4, 10)).toBe(true);
    expect(overFailureLimit({ count: 0, text: '0' }, 1, 1)).toBe(true);
  });

  it('a percentage counts only from 1,000 tried on', () => {
    const pct = { percent: 5, text: '5%' };
    expect(overFailureLimit(pct, 999, 999)).toBe(false);
    expect(overFailureLimit(pct, 50, 1000)).toBe(false);
    expect(overFailureLimit(pct, 51, 1000)).toBe(true);
  });
});
