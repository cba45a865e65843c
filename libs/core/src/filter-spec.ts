import { invalidArgument } from './errors.js';
import { parseSize } from './size.js';
import { parseTimePoint } from './age.js';
import { normalizeExtensions } from './filter/extension.js';
import { parseTypeFilter, type TypeFilter } from './filter/entry-type.js';
import { compileNameRegexFilter } from './filter/name-regex.js';

/**
 * Filters as a user writes them, from CLI flags or an API body: sizes and times still as text.
 * Field names are the API's; the CLI maps each to its flag (`minSize` ↔ `--min-size`).
 * The zod form of this shape (for OpenAPI and request validation) is `@filer/core/schema`;
 * it is kept out of this module because loading zod costs every CLI start and every thread.
 */
export interface FilterInput {
  ext?: string | string[];
  minSize?: string | number;
  maxSize?: string | number;
  newer?: string;
  older?: string;
  name?: string[];
  regex?: string;
  exclude?: string[];
  type?: string;
  hidden?: boolean;
  noIgnore?: boolean;
  maxDepth?: string | number;
  follow?: boolean;
}

type FieldKind = 'string' | 'strings' | 'stringOrStrings' | 'size' | 'boolean';
const FIELD_KINDS: Record<keyof FilterInput, FieldKind> = {
  ext: 'stringOrStrings',
  minSize: 'size',
  maxSize: 'size',
  newer: 'string',
  older: 'string',
  name: 'strings',
  regex: 'string',
  exclude: 'strings',
  type: 'string',
  hidden: 'boolean',
  noIgnore: 'boolean',
  maxDepth: 'size',
  follow: 'boolean',
};

function fieldOk(kind: FieldKind, v: unknown): boolean {
  const isStrings = Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');
  const isStringList = Array.isArray(v) && v.every((x) => typeof x === 'string');
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'strings':
      return isStrings;
    case 'stringOrStrings':
      return typeof v === 'string' || isStringList;
    case 'size':
      return typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
    case 'boolean':
      return typeof v === 'boolean';
  }
}

/** Checks the shape of untrusted input (an API body): known fields only, each of its type. */
function checkShape(raw: unknown): FilterInput {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidArgument('filter', String(raw), 'invalid filter: expected an object');
  for (const [key, value] of Object.entries(raw)) {
    const kind = Object.hasOwn(FIELD_KINDS, key) ? FIELD_KINDS[key as keyof FilterInput] : undefined;
    if (kind === undefined) throw invalidArgument(key, String(value), `unknown filter '${key}'`);
    if (value !== undefined && !fieldOk(kind, value)) {
      throw invalidArgument(
        key,
        String(value),
        `invalid filter '${key}': expected ${kind === 'size' ? 'a size string or a whole number' : kind === 'strings' ? 'a list of non-empty strings' : kind === 'stringOrStrings' ? 'a string or a list of strings' : `a ${kind}`}`,
      );
    }
  }
  return raw as FilterInput;
}

/** Filters resolved once at the edge: plain, serialisable, the same for every thread and shard. */
export interface FilterSpec {
  extensions: string[];
  minSize?: number;
  maxSize?: number;
  /** Epoch ms; relative ages are resolved against the submission time so shards agree. */
  newerThanMs?: number;
  olderThanMs?: number;
  names: string[];
  regex?: string;
  excludes: string[];
  type: TypeFilter;
  hidden: boolean;
  ignoreFiles: boolean;
  maxDepth?: number;
  follow: boolean;
}

function parseDepth(value: string | number, field: string): number {
  const text = String(value);
  if (!/^\d+$/.test(text.trim())) {
    throw invalidArgument(field, text, `invalid depth '${text}': expected a whole number of levels (1 = the root's children)`);
  }
  return Number(text);
}

function sizeOf(value: string | number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : parseSize(value, field);
}

/** Validates and resolves user filters; every error names the field and the value. */
export function parseFilterSpec(raw: unknown, now: number = Date.now()): FilterSpec {
  const input = checkShape(raw);
  const extList = input.ext === undefined ? [] : Array.isArray(input.ext) ? input.ext : input.ext.split(',');
  const spec: FilterSpec = {
    extensions: normalizeExtensions(extList),
    minSize: sizeOf(input.minSize, 'minSize'),
    maxSize: sizeOf(input.maxSize, 'maxSize'),
    newerThanMs: input.newer === undefined ? undefined : parseTimePoint(input.newer, now, 'newer'),
    olderThanMs: input.older === undefined ? undefined : parseTimePoint(input.older, now, 'older'),
    names: input.name ?? [],
    regex: input.regex,
    excludes: input.exclude ?? [],
    type: input.type === undefined ? 'file' : parseTypeFilter(input.type, 'type'),
    hidden: input.hidden ?? false,
    ignoreFiles: !(input.noIgnore ?? false),
    maxDepth: input.maxDepth === undefined ? undefined : parseDepth(input.maxDepth, 'maxDepth'),
    follow: input.follow ?? false,
  };
  if (spec.minSize !== undefined && spec.maxSize !== undefined && spec.minSize > spec.maxSize) {
    throw invalidArgument('minSize', String(input.minSize), `--min-size ${input.minSize} is larger than --max-size ${input.maxSize}`);
  }
  // Compile once here so a bad regex is rejected at the edge, not in a worker.
  compileNameRegexFilter(spec.regex, 'regex');
  return spec;
}
