import { expect } from 'vitest';
import { FilerError } from './errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

/** Asserts `fn` throws an E_INVALID_ARGUMENT FilerError naming `field` (and `value`, when given); returns it. */
export function expectInvalid(fn: () => unknown, field: string, value?: string): FilerError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(FilerError);
  const fe = e as FilerError;
  expect(fe.code).toBe('E_INVALID_ARGUMENT');
  expect(fe.field).toBe(field);
  if (value !== undefined) expect(fe.value).toBe(value);
  return fe;
}
