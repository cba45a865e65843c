import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isHidden, isSkippedName } from './hidden.js';

describe('isHidden', () => {
  it.each(['.git', '.env', '.hidden.txt', '...', '.a'])('%j is hidden', (name) => {
    expect(isHidden(name)).toBe(true);
  });

  // '.' and '..' (S3 key segments) are unsafe names, reported where a key becomes a path, not skipped.
  it.each(['', 'a', 'a.txt', 'file.', 'a.b.c', ' .x', '_x', '·x', '．x', '.', '..'])('%j is not hidden', (name) => {
    expect(isHidden(name)).toBe(false);
  });

  it('property: hidden exactly when the name starts with a dot and is not . or ..', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), (name) => {
        expect(isHidden(name)).toBe(name.startsWith('.') && name !== '.' && name !== '..');
      }),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 10 }), (rest) => {
        expect(isHidden('.' + rest)).toBe(rest !== '.');
      }),
    );
  });
});

describe('isSkippedName', () => {
  it('skips the dedupe quarantine always, hidden names unless --hidden', () => {
    expect(isSkippedName('.filer-quarantine', true)).toBe(true);
    expect(isSkippedName('.filer-quarantine', false)).toBe(true);
    expect(isSkippedName('.dot', false)).toBe(true);
    expect(isSkippedName('.dot', true)).toBe(false);
    expect(isSkippedName('filer-quarantine', false)).toBe(false);
  });
});
