import { describe, expect, it } from 'vitest';
import { parseJobSpec } from './parse-job-spec.js';
import { expectInvalid } from './expect-invalid.spec-helper.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');

describe('parseJobSpec', () => {
  it('fills defaults and fixes relative dates to absolute times', () => {
    const spec = parseJobSpec({ kind: 'dupes', roots: ['/data'], filter: { newer: '7d', ext: 'CSV' } }, NOW);
    expect(spec).toMatchObject({ kind: 'dupes', roots: ['/data'], apply: false, options: { hash: 'xxh128' } });
    expect(spec.filter.newerThanMs).toBe(NOW - 7 * 86_400_000);
    expect(spec.filter.extensions).toEqual(['csv']);
    expect(parseJobSpec({ kind: 'copy', roots: ['/a'], options: { dest: '/b' } }).options.onConflict).toBe('fail');
  });

  it('names the field of each problem with its dotted path', () => {
    expectInvalid(() => parseJobSpec(null), '');
    expectInvalid(() => parseJobSpec({ kind: 'delete', roots: ['/a'] }), 'kind');
    expectInvalid(() => parseJobSpec({ roots: ['/a'] }), 'kind');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: [] }), 'roots');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: '/a' }), 'roots');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: ['/a', 7] }), 'roots.1');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: ['/a'], filter: { minSize: 'abc' } }), 'filter.minSize');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: ['/a'], filter: { bogus: 1 } }), 'filter.bogus');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: ['/a'], options: { format: 'xml' } }), 'options.format');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: ['/a'], options: { sneaky: 1 } }), 'options.sneaky');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: ['/a'], extra: 1 }), 'extra');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: ['/a'], apply: true }), 'apply');
    expectInvalid(() => parseJobSpec({ kind: 'find', roots: ['/a'], apply: 'yes' }), 'apply');
  });

  it('checks what each kind needs', () => {
    expectInvalid(() => parseJobSpec({ kind: 'rename', roots: ['/a'] }), 'options.to');
    expectInvalid(() => parseJobSpec({ kind: 'rename', roots: ['/a'], options: { to: '{name}', replace: 'x' } }), 'options.to');
    expectInvalid(() => parseJobSpec({ kind: 'rename', roots: ['/a'], options: { replace: 'x' } }), 'options.with');
    expectInvalid(
      () => parseJobSpec({ kind: 'rename', roots: ['/a'], options: { to: '{name}', onConflict: 'overwrite' } }),
      'options.onConflict',
    );
    expectInvalid(() => parseJobSpec({ kind: 'move', roots: ['/a'] }), 'options.dest');
    expectInvalid(() => parseJobSpec({ kind: 'dupes', roots: ['/a'], filter: { type: 'd' } }), 'filter.type');
    expect(parseJobSpec({ kind: 'rename', roots: ['/a'], options: { replace: 'x', with: '' } }).options.with).toBe('');
  });
});
