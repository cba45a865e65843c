import { z } from 'zod';
import { invalidArgument } from './errors.js';
import { parseSize } from './size.js';
import { parseTimePoint } from './age.js';
import { normalizeExtensions } from './filter/extension.js';
import { parseTypeFilter, type TypeFilter } from './filter/entry-type.js';
import { compileNameRegexFilter } from './filter/name-regex.js';

/**
 * Filters as a user writes them, from CLI flags or an API body: sizes and times still as text.
 * Field names are the API's; the CLI maps each to its flag (`minSize` ↔ `--min-size`).
 */
export const FilterInputSchema = z
  .object({
    ext: z.union([z.string(), z.array(z.string())]).optional(),
    minSize: z.union([z.string(), z.number().int().nonnegative()]).optional(),
    maxSize: z.union([z.string(), z.number().int().nonnegative()]).optional(),
    newer: z.string().optional(),
    older: z.string().optional(),
    name: z.array(z.string().min(1)).optional(),
    regex: z.string().optional(),
    exclude: z.array(z.string().min(1)).optional(),
    type: z.string().optional(),
    hidden: z.boolean().optional(),
    noIgnore: z.boolean().optional(),
    maxDepth: z.union([z.string(), z.number().int().nonnegative()]).optional(),
    follow: z.boolean().optional(),
  })
  .strict();
export type FilterInput = z.infer<typeof FilterInputSchema>;

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
  const parsed = FilterInputSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'filter';
    throw invalidArgument(field, '', `invalid filter '${field}': ${issue.message}`);
  }
  const input = parsed.data;
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
