import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isHidden } from './hidden.js';

describe('isHidden', () => {
  it.each(['.git', '.env', '.hidden.txt', '.', '..', '...', '.a'])('%j is hidden', (name) => {
    expect(isHidden(name)).toBe(true);
  });

  it.each(['', 'a', 'a.txt', 'file.', 'a.b.c', ' .x', '_x', '·x', '．x'])('%j is not hidden', (name) => {
    expect(isHidden(name)).toBe(false);
  });

  it('property: hidden exactly when the name starts with a dot', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), (name) => {
        expect(isHidden(name)).toBe(name.startsWith('.'));
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), (rest) => {
        expect(isHidden('.' + rest)).toBe(true);
      }),
    );
  });
});
