import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FilerError } from './errors.js';
import { JOB_KINDS } from './job-spec.js';
import { JobSpecSchema, jobSpecComponentSchemas } from './job-spec-schema.js';
import { parseJobSpec } from './parse-job-spec.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');

/** The field of the schema's first problem, named as parseJobSpec names it (an unknown key is its own field). */
function schemaField(raw: unknown): string | undefined {
  const r = JobSpecSchema.safeParse(raw);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  return path.map(String).join('.');
}

/** parseJobSpec's verdict: undefined when it accepts, else the field of its FilerError. */
function parserField(raw: unknown): string | undefined {
  try {
    parseJobSpec(raw, NOW);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(FilerError);
    expect((e as FilerError).code).toBe('E_INVALID_ARGUMENT');
    return (e as FilerError).field;
  }
}

const GOOD: unknown[] = [
  { kind: 'find', roots: ['/a'] },
  {
    version: 1,
    kind: 'find',
    roots: ['/a', 's3://b/p/'],
    filter: { ext: ['csv'], minSize: '2k', type: 'd' },
    options: { format: 'paths' },
  },
  { kind: 'dupes', roots: ['/a'], options: { hash: 'sha256', includeEmpty: true } },
  { kind: 'rename', roots: ['/a'], options: { to: '{name}', onConflict: 'suffix' }, apply: true },
  { kind: 'rename', roots: ['/a'], options: { replace: '^x', with: '' } },
  { kind: 'copy', roots: ['/a'], options: { dest: '/b', flatten: true, verify: false, onConflict: 'overwrite' }, apply: false },
  { kind: 'move', roots: ['/a'], options: { dest: '/b' } },
  { kind: 'manifest', roots: ['/a'], options: { format: 'csv', hash: 'sha256' } },
];

/** Refused by the schema itself: the field each names (the schema's path and parseJobSpec's field). */
const BAD: [unknown, string][] = [
  [null, ''],
  [[], ''],
  ['find', ''],
  [{ kind: 'delete', roots: ['/a'] }, 'kind'],
  [{ roots: ['/a'] }, 'kind'],
  [{ kind: 'find', roots: [] }, 'roots'],
  [{ kind: 'find', roots: '/a' }, 'roots'],
  [{ kind: 'find' }, 'roots'],
  [{ kind: 'find', roots: Array.from({ length: 65 }, (_, i) => `/r${i}`) }, 'roots'],
  [{ kind: 'find', roots: ['/a', 7] }, 'roots.1'],
  [{ kind: 'find', roots: ['/a', ''] }, 'roots.1'],
  [{ kind: 'find', roots: ['/a'], filter: { bogus: 1 } }, 'filter.bogus'],
  [{ kind: 'find', roots: ['/a'], filter: { minSize: -1 } }, 'filter.minSize'],
  [{ kind: 'find', roots: ['/a'], filter: 'big' }, 'filter'],
  [{ kind: 'find', roots: ['/a'], options: { format: 'xml' } }, 'options.format'],
  [{ kind: 'find', roots: ['/a'], options: { sneaky: 1 } }, 'options.sneaky'],
  [{ kind: 'find', roots: ['/a'], options: 'x' }, 'options'],
  [{ kind: 'dupes', roots: ['/a'], options: { includeEmpty: 'yes' } }, 'options.includeEmpty'],
  [{ kind: 'copy', roots: ['/a'], options: { dest: '' } }, 'options.dest'],
  [{ kind: 'find', roots: ['/a'], extra: 1 }, 'extra'],
  [{ kind: 'find', roots: ['/a'], apply: true }, 'apply'],
  [{ kind: 'find', roots: ['/a'], apply: 'yes' }, 'apply'],
  [{ kind: 'find', roots: ['/a'], version: 2 }, 'version'],
  [{ kind: 'find', roots: ['/a'], version: '1' }, 'version'],
  [{ kind: 'rename', roots: ['/a'] }, 'options.to'],
  [{ kind: 'rename', roots: ['/a'], options: { to: '{name}', replace: 'x' } }, 'options.to'],
  [{ kind: 'rename', roots: ['/a'], options: { replace: 'x' } }, 'options.with'],
  [{ kind: 'rename', roots: ['/a'], options: { to: '{name}', onConflict: 'overwrite' } }, 'options.onConflict'],
  [{ kind: 'copy', roots: ['/a'] }, 'options.dest'],
  [{ kind: 'move', roots: ['/a'], options: { flatten: true } }, 'options.dest'],
];

/** Right in shape, wrong in meaning: the schema passes them, parseJobSpec refuses them. */
const MEANING: [unknown, string][] = [
  [{ kind: 'find', roots: ['/a'], filter: { minSize: 'abc' } }, 'filter.minSize'],
  [{ kind: 'find', roots: ['/a'], filter: { newer: 'yesterday' } }, 'filter.newer'],
  [{ kind: 'find', roots: ['/a'], filter: { minSize: '2k', maxSize: '1k' } }, 'filter.minSize'],
  [{ kind: 'dupes', roots: ['/a'], filter: { type: 'd' } }, 'filter.type'],
];

describe('JobSpecSchema and parseJobSpec agree', () => {
  it('on good requests', () => {
    for (const raw of GOOD) {
      expect(JobSpecSchema.safeParse(raw).success, JSON.stringify(raw)).toBe(true);
      expect(parserField(raw), JSON.stringify(raw)).toBeUndefined();
    }
  });

  it('on bad ones, naming the same field', () => {
    for (const [raw, field] of BAD) {
      expect(schemaField(raw), JSON.stringify(raw)).toBe(field);
      expect(parserField(raw), JSON.stringify(raw)).toBe(field);
    }
  });

  it('the filter and kind rules that need a parsed filter are the parser’s alone', () => {
    for (const [raw, field] of MEANING) {
      expect(JobSpecSchema.safeParse(raw).success, JSON.stringify(raw)).toBe(true);
      expect(parserField(raw), JSON.stringify(raw)).toBe(field);
    }
  });

  it('on random requests: the parser accepts only what the schema accepts, and names the schema’s first problem', () => {
    const text = fc.constantFrom('', '/a', '{name}', '^x', 'xml', 'paths', 'sha256', 'fail', 'overwrite');
    const value = fc.oneof(text, fc.boolean(), fc.integer({ min: -1, max: 3 }), fc.constant(null));
    const options = fc.dictionary(
      fc.constantFrom('format', 'hash', 'includeEmpty', 'to', 'replace', 'with', 'dest', 'flatten', 'verify', 'onConflict', 'bogus'),
      value,
      { maxKeys: 4 },
    );
    const filter = fc.constantFrom({}, { ext: 'csv' }, { type: 'f' }, { type: 'd' }, { bogus: 1 }, { hidden: 'no' }, { maxDepth: -2 }, 'x');
    const job = fc.record(
      {
        version: fc.constantFrom(1, 2, '1'),
        kind: fc.constantFrom(...JOB_KINDS, 'delete', 3),
        roots: fc.oneof(fc.array(fc.oneof(text, fc.integer()), { maxLength: 3 }), text),
        filter,
        options,
        apply: fc.oneof(fc.boolean(), fc.constant('yes')),
        extra: fc.constant(1),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(job, (raw) => {
        const field = schemaField(raw);
        if (field === undefined) {
          // Past the schema, the parser refuses only what needs the parsed filter: here, directories for a kind acting on files.
          const dirs = raw.kind !== 'find' && (raw.filter as { type?: string } | undefined)?.type === 'd';
          expect(parserField(raw)).toBe(dirs ? 'filter.type' : undefined);
        } else expect(parserField(raw)).toBe(field);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseJobSpec through the schema', () => {
  it('takes version 1 or none, and refuses any other naming the value and what it reads', () => {
    expect(parseJobSpec({ kind: 'find', roots: ['/a'] }).version).toBe(1);
    expect(parseJobSpec({ version: 1, kind: 'find', roots: ['/a'] }).version).toBe(1);
    for (const v of [2, 0, '1', null]) {
      const e = (() => {
        try {
          parseJobSpec({ version: v, kind: 'find', roots: ['/a'] });
        } catch (err) {
          return err as FilerError;
        }
        throw new Error(`version ${String(v)} was accepted`);
      })();
      expect(e.field).toBe('version');
      expect(e.value).toBe(String(v));
      expect(e.message).toBe(`unsupported job spec version '${String(v)}': this server reads version 1 (or no version field)`);
    }
  });

  it('words each problem as before: the value and what was expected', () => {
    const message = (raw: unknown): [string, string | undefined, string | undefined] => {
      try {
        parseJobSpec(raw, NOW);
      } catch (e) {
        return [(e as FilerError).message, (e as FilerError).field, (e as FilerError).value];
      }
      throw new Error('accepted');
    };
    const kinds = JOB_KINDS.join(', ');
    expect(message(null)).toEqual(['a job must be a JSON object', '', 'null']);
    expect(message({ kind: 'delete', roots: ['/a'] })).toEqual([`invalid kind 'delete': expected one of ${kinds}`, 'kind', 'delete']);
    expect(message({ roots: ['/a'] })).toEqual([`kind is required: one of ${kinds}`, 'kind', '']);
    expect(message({ kind: 'find', roots: [] })).toEqual(['roots must be a non-empty array of paths', 'roots', '']);
    expect(message({ kind: 'find', roots: Array(65).fill('/a') })).toEqual(['at most 64 roots per job', 'roots', '65']);
    expect(message({ kind: 'find', roots: ['/a', 7] })).toEqual(['each root must be a non-empty string', 'roots.1', '7']);
    expect(message({ kind: 'find', roots: ['/a'], x: 1 })).toEqual(["unknown field 'x'", 'x', '']);
    expect(message({ kind: 'find', roots: ['/a'], options: { y: 1 } })).toEqual(["unknown option 'y'", 'options.y', '']);
    expect(message({ kind: 'find', roots: ['/a'], options: { format: 'xml' } })).toEqual([
      "invalid format 'xml': expected one of paths, ndjson, csv, json",
      'options.format',
      'xml',
    ]);
    expect(message({ kind: 'copy', roots: ['/a'], options: { dest: '/b', verify: 1 } })).toEqual([
      'options.verify must be true or false',
      'options.verify',
      '1',
    ]);
    expect(message({ kind: 'find', roots: ['/a'], filter: { bogus: 1 } })).toEqual(["unknown filter 'bogus'", 'filter.bogus', '1']);
    expect(message({ kind: 'move', roots: ['/a'] })).toEqual(['move needs options.dest, the destination directory', 'options.dest', '']);
    expect(message({ kind: 'dupes', roots: ['/a'], apply: true })).toEqual([
      'dupes changes nothing: apply applies to rename, copy, move and dupes with options.action',
      'apply',
      'true',
    ]);
  });

  it('checks a dupes action and its options as `filer dupes --action` checks its flags', () => {
    const message = (raw: unknown): [string, string | undefined, string | undefined] => {
      try {
        parseJobSpec(raw);
      } catch (e) {
        return [(e as FilerError).message, (e as FilerError).field, (e as FilerError).value];
      }
      throw new Error('accepted');
    };
    const dupes = (options: unknown, apply = false): unknown => ({ kind: 'dupes', roots: ['/a', '/b'], options, apply });
    expect(message(dupes({ action: 'explode' }))).toEqual([
      "invalid action 'explode': expected one of hardlink, symlink, remove, move-to, reflink",
      'options.action',
      'explode',
    ]);
    expect(message(dupes({ action: 'remove', keep: ['oldest', 'biggest'] }))).toEqual([
      "invalid keep rule 'biggest': expected oldest, newest, shortest-path, longest-path, first-root or path:GLOB",
      'options.keep.1',
      'biggest',
    ]);
    expect(message(dupes({ action: 'remove', keep: 'oldest' }))).toEqual(['options.keep must be an array', 'options.keep', 'oldest']);
    expect(message(dupes({ action: 'remove', keep: ['path:'] }))[1]).toBe('options.keep.0');
    expect(message(dupes({ action: 'remove', reference: [''] }))[1]).toBe('options.reference.0');
    expect(message(dupes({ action: 'hardlink', isolate: 'yes' }))).toEqual([
      'options.isolate must be true or false',
      'options.isolate',
      'yes',
    ]);
    expect(message(dupes({ action: 'move-to' }))).toEqual([
      'action move-to needs options.moveTo: the directory the copies are moved under',
      'options.moveTo',
      '',
    ]);
    expect(message(dupes({ action: 'symlink', moveTo: '/c' }))).toEqual([
      'options.moveTo is for action move-to, not symlink',
      'options.moveTo',
      '/c',
    ]);
    expect(message(dupes({ reference: ['/b'] }))).toEqual([
      'options.reference acts on duplicates: give options.action too',
      'options.reference',
      '/b',
    ]);
    // Empty lists and false flags are what the CLI sends when a flag is not given: no action needed.
    expect(parseJobSpec(dupes({ keep: [], isolate: false })).options).toMatchObject({ keep: [], isolate: false });
    const ok = parseJobSpec(
      dupes({ action: 'move-to', moveTo: '/c', keep: ['newest', 'path:*.raw'], reference: ['/b'], isolate: true }, true),
    );
    expect(ok.apply).toBe(true);
    expect(ok.options).toMatchObject({ action: 'move-to', moveTo: '/c', keep: ['newest', 'path:*.raw'], reference: ['/b'], isolate: true });
  });

  it('fills the defaults by kind and keeps no absent option', () => {
    expect(parseJobSpec({ kind: 'dupes', roots: ['/a'] }).options).toEqual({ hash: 'xxh128' });
    expect(parseJobSpec({ kind: 'rename', roots: ['/a'], options: { to: '{name}' } }).options).toEqual({
      to: '{name}',
      onConflict: 'fail',
    });
    expect(parseJobSpec({ kind: 'find', roots: ['/a'], options: { format: undefined } }).options).toEqual({});
    expect(Object.keys(parseJobSpec({ kind: 'find', roots: ['/a'], options: { format: undefined } }).options)).toEqual([]);
  });
});

describe('jobSpecComponentSchemas', () => {
  it('describes the request as OpenAPI 3.0 components, JobSpec referring to FilterSpec', () => {
    const { JobSpec, FilterSpec } = jobSpecComponentSchemas();
    expect(JobSpec).not.toHaveProperty('$id');
    expect(FilterSpec).not.toHaveProperty('$id');
    expect(JobSpec).toMatchObject({ type: 'object', required: ['kind', 'roots'], additionalProperties: false });
    const props = JobSpec.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(props)).toEqual(['version', 'kind', 'roots', 'filter', 'options', 'apply']);
    expect(props.version).toMatchObject({ default: 1, enum: [1] });
    expect(props.kind).toMatchObject({ type: 'string', enum: [...JOB_KINDS] });
    expect(props.roots).toMatchObject({ type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1 } });
    expect(props.filter).toEqual({ $ref: '#/components/schemas/FilterSpec' });
    expect(props.options).toMatchObject({ type: 'object', additionalProperties: false });
    expect(FilterSpec).toMatchObject({ type: 'object', additionalProperties: false });
    expect(FilterSpec.description).toMatch(/^Which entries a job acts on/);
  });
});
