import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nameProblem } from './plan-names.js';

/** nameProblem as it was written first (split into parts, every length counted in bytes): the reference. */
function reference(target: string): ReturnType<typeof nameProblem> {
  if (target.includes('\0')) return { kind: 'invalid-name', detail: 'contains a NUL byte' };
  const s3Key = target.startsWith('s3://') ? target.slice(target.indexOf('/', 5)) : undefined;
  if (s3Key !== undefined && Buffer.byteLength(s3Key) > 1025) return { kind: 'name-too-long', detail: 'S3 key longer than 1024 bytes' };
  if (s3Key === undefined && Buffer.byteLength(target) > 4095) return { kind: 'name-too-long', detail: 'path longer than 4095 bytes' };
  for (const part of (s3Key ?? target).split('/').slice(1)) {
    if (part === '' || part === '.' || part === '..')
      return { kind: 'invalid-name', detail: `empty, '.' or '..' path component in '${target}'` };
    if (Buffer.byteLength(part) > 255) return { kind: 'name-too-long', detail: `name '${part.slice(0, 40)}…' longer than 255 bytes` };
  }
  return undefined;
}

describe('nameProblem', () => {
  it('finds what splitting into parts and counting bytes finds (property)', () => {
    // Pieces that make every case: separators, dots, multi-byte characters, NUL, names near the limits.
    const piece = fc.oneof(
      fc.constantFrom('/', '.', '..', 'a', 'é', '€', '😀', '\0', 's3://b', ' '),
      fc.constantFrom(84, 85, 86, 127, 128, 255, 256).map((n) => 'x'.repeat(n)),
      fc.constantFrom(85, 86, 128).map((n) => 'é'.repeat(n)),
      fc.constantFrom(1365, 1366, 4095, 4096).map((n) => 'é'.repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const target = pieces.join('');
        expect(nameProblem(target)).toEqual(reference(target));
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses a long path, a long name and odd components as before', () => {
    expect(nameProblem('/a/' + 'é'.repeat(128))?.kind).toBe('name-too-long');
    expect(nameProblem('/a/' + 'é'.repeat(127))).toBeUndefined();
    expect(nameProblem('/a' + '/bcd'.repeat(1024))?.kind).toBe('name-too-long');
    expect(nameProblem('/a/./b')?.kind).toBe('invalid-name');
    expect(nameProblem('/a/../b')?.kind).toBe('invalid-name');
    expect(nameProblem('/a//b')?.kind).toBe('invalid-name');
    expect(nameProblem('/a/.../b')).toBeUndefined();
    expect(nameProblem('/a/b/')?.kind).toBe('invalid-name');
  });
});
