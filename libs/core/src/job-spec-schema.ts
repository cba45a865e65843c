import { z } from 'zod';
import { FilterInputSchema } from './filter-input-schema.js';
import {
  CONFLICT_POLICIES,
  DEDUPE_ACTIONS,
  HASHES,
  isBatchKind,
  JOB_KINDS,
  JOB_SPEC_VERSION,
  KEEP_RULE_NAMES,
  OUTPUT_FORMATS,
} from './job-vocabulary.js';

/*
 * The job request as one zod schema: `parseJobSpec` validates with it, the API's OpenAPI document
 * is generated from it. The messages are the ones users see (a FilerError's message, its field the
 * issue's dotted path), so each schema says in its own words what it expected.
 */

const oneOf = <const T extends readonly string[]>(field: string, allowed: T) =>
  z.enum(allowed, { error: (i) => `invalid ${field} '${String(i.input)}': expected one of ${allowed.join(', ')}` });
const flag = (field: string) => z.boolean({ error: `${field} must be true or false` });
const text = (field: string) =>
  z.string({ error: `${field} must be a non-empty string` }).min(1, { error: `${field} must be a non-empty string` });
const KEEP_EXPECTED = `expected ${KEEP_RULE_NAMES.join(', ')} or path:GLOB`;
/** A `--keep` rule: a named one or `path:GLOB` (the glob itself is compiled when the job is admitted). */
const keepRule = z
  .string({ error: `each keep rule must be a string: ${KEEP_EXPECTED}` })
  .refine((r) => (KEEP_RULE_NAMES as readonly string[]).includes(r) || /^path:.+/s.test(r), {
    error: (i) => `invalid keep rule '${String(i.input)}': ${KEEP_EXPECTED}`,
  });
/** A list of strings (keep rules, reference roots): 64 at most, as roots. */
const list = <T extends z.ZodType>(field: string, item: T) =>
  z.array(item, { error: `${field} must be an array` }).max(64, { error: `at most 64 entries in ${field}` });

export const JobOptionsSchema = z
  .object(
    {
      format: oneOf('format', OUTPUT_FORMATS).optional().describe('find, manifest: the record shape (`paths` needs no stat)'),
      hash: oneOf('hash', HASHES).optional().describe('dupes: the content hash (default xxh128); manifest: add a sha256 column'),
      includeEmpty: flag('options.includeEmpty').optional().describe('dupes: group empty files too'),
      to: text('options.to').optional().describe('rename: a name template'),
      replace: text('options.replace').optional().describe('rename: a regex on the base name (with `with`)'),
      with: z
        .string({ error: 'options.with must be a string (it may be empty)' })
        .optional()
        .describe('rename: the replacement for `replace`'),
      dest: text('options.dest')
        .optional()
        .describe('copy, move: the destination directory (inside the allowed roots) or s3://bucket/prefix/ (inside FILER_ALLOWED_S3)'),
      flatten: flag('options.flatten').optional().describe('copy, move: put every file directly in dest'),
      verify: flag('options.verify').optional().describe('copy, move: check each copy with sha256 before it is linked into place'),
      onConflict: oneOf('onConflict', CONFLICT_POLICIES)
        .optional()
        .describe('rename, copy, move: what to do when a target exists (default fail; rename never overwrites)'),
      action: oneOf('action', DEDUPE_ACTIONS)
        .optional()
        .describe('dupes: act on the duplicates found (plan, then apply and undo as rename/copy/move); local roots only'),
      keep: list('options.keep', keepRule)
        .optional()
        .describe(
          `dupes with action: which copy of a group stays, first rule that decides wins, then path order (${KEEP_RULE_NAMES.join(', ')}, path:GLOB)`,
        ),
      reference: list('options.reference', text('each options.reference entry'))
        .optional()
        .describe('dupes with action: roots (each also one of `roots`) whose files are never acted on'),
      isolate: flag('options.isolate').optional().describe('dupes with action: only duplicates across different roots count'),
      ignorePerms: flag('options.ignorePerms')
        .optional()
        .describe('dupes with action hardlink: link files whose owner, group or mode differ too'),
      moveTo: text('options.moveTo')
        .optional()
        .describe('dupes with action move-to: the directory copies are moved under (inside the allowed roots)'),
    },
    { error: (i) => (i.code === 'unrecognized_keys' ? `unknown option '${i.keys[0]}'` : 'options must be an object') },
  )
  .strict()
  .describe('By kind; options of other kinds are accepted and ignored');

/** A request's version field: absent means 1, anything else is refused rather than half understood. */
const versionSchema = z
  .literal(JOB_SPEC_VERSION, {
    error: (i) => `unsupported job spec version '${String(i.input)}': this server reads version ${JOB_SPEC_VERSION} (or no version field)`,
  })
  .default(JOB_SPEC_VERSION)
  .describe('The job spec format; 1, the only one so far, when absent');

const ROOTS_MESSAGE = 'roots must be a non-empty array of paths';
const ROOT_MESSAGE = 'each root must be a non-empty string';

export const JobSpecSchema = z
  .object(
    {
      version: versionSchema,
      kind: z.enum(JOB_KINDS, {
        error: (i) =>
          i.input === undefined
            ? `kind is required: one of ${JOB_KINDS.join(', ')}`
            : `invalid kind '${String(i.input)}': expected one of ${JOB_KINDS.join(', ')}`,
      }),
      roots: z
        .array(z.string({ error: ROOT_MESSAGE }).min(1, { error: ROOT_MESSAGE }), { error: ROOTS_MESSAGE })
        .min(1, { error: ROOTS_MESSAGE })
        .max(64, { error: 'at most 64 roots per job' })
        .describe(
          'Absolute directories, each resolving (through symlinks) inside one of FILER_ALLOWED_ROOTS (at most 4096 characters); or s3://bucket/prefix/ inside FILER_ALLOWED_S3.',
        ),
      filter: FilterInputSchema.optional(),
      options: JobOptionsSchema.optional(),
      apply: flag('apply')
        .default(false)
        .describe('rename, copy, move, dupes with options.action: apply the plan once made (when it has no conflicts)'),
    },
    { error: (i) => (i.code === 'unrecognized_keys' ? `unknown field '${i.keys[0]}'` : 'a job must be a JSON object') },
  )
  .strict()
  .superRefine((job, ctx) => {
    // What each kind needs; run once the shape is right. `value` is what the error reports.
    const o = job.options ?? {};
    const fail = (path: (string | number)[], value: string, message: string) =>
      ctx.addIssue({ code: 'custom', path, message, params: { value } });
    if (job.kind === 'rename') {
      if ((o.to === undefined) === (o.replace === undefined))
        fail(['options', 'to'], o.to ?? '', 'say how to rename: options.to (a template) or options.replace with options.with');
      else if (o.replace !== undefined && o.with === undefined) fail(['options', 'with'], '', 'options.replace needs options.with');
      else if (o.onConflict === 'overwrite')
        fail(['options', 'onConflict'], 'overwrite', 'rename never overwrites: use fail, skip or suffix');
    }
    if ((job.kind === 'copy' || job.kind === 'move') && o.dest === undefined)
      fail(['options', 'dest'], '', `${job.kind} needs options.dest, the destination directory`);
    if (job.kind === 'dupes') refineDedupe(o, fail);
    if (!isBatchKind(job.kind) && job.apply && !(job.kind === 'dupes' && o.action !== undefined))
      fail(['apply'], 'true', `${job.kind} changes nothing: apply applies to rename, copy, move and dupes with options.action`);
  })
  .describe('A job request: what to do (kind), where (roots), to which entries (filter), how (options)');

type Fail = (path: (string | number)[], value: string, message: string) => void;

/** A dupes job's action options: the others only with an action, move-to with its directory and only then. */
function refineDedupe(o: z.output<typeof JobOptionsSchema>, fail: Fail): void {
  if (o.action === undefined) {
    const stray = (['keep', 'reference', 'isolate', 'ignorePerms', 'moveTo'] as const).find(
      (k) => o[k] !== undefined && o[k] !== false && !(Array.isArray(o[k]) && o[k].length === 0),
    );
    if (stray !== undefined) fail(['options', stray], String(o[stray]), `options.${stray} acts on duplicates: give options.action too`);
    return;
  }
  if (o.action === 'move-to' && o.moveTo === undefined)
    fail(['options', 'moveTo'], '', 'action move-to needs options.moveTo: the directory the copies are moved under');
  else if (o.action !== 'move-to' && o.moveTo !== undefined)
    fail(['options', 'moveTo'], o.moveTo, `options.moveTo is for action move-to, not ${o.action}`);
}

/** A job request as the API takes it and the CLI builds it (the schema's input: version and apply optional). */
export type JobSpecInput = z.input<typeof JobSpecSchema>;
/** Options by job kind, as checked; the defaults by kind are filled in by `parseJobSpec`. */
export type JobOptions = z.output<typeof JobOptionsSchema>;

/**
 * The request schemas as OpenAPI 3.0 component schemas, `JobSpec` referring to `FilterSpec` by
 * `#/components/schemas/FilterSpec`. Input form: fields with defaults (version, apply) are optional.
 */
export function jobSpecComponentSchemas(): { FilterSpec: Json; JobSpec: Json } {
  const registry = z.registry<{ id: string }>();
  registry.add(FilterInputSchema, { id: 'FilterSpec' });
  registry.add(JobSpecSchema, { id: 'JobSpec' });
  const { schemas } = z.toJSONSchema(registry, { target: 'openapi-3.0', io: 'input', uri: (id) => `#/components/schemas/${id}` });
  return { FilterSpec: component(schemas.FilterSpec), JobSpec: component(schemas.JobSpec) };
}

type Json = Record<string, unknown>;

/** A property that is only `allOf: [x]` is x: zod wraps a lone `$ref` so (for siblings OpenAPI 3.0 would ignore; there are none). */
const unwrap = (p: Json): Json =>
  Object.keys(p).length === 1 && Array.isArray(p.allOf) && p.allOf.length === 1 ? (p.allOf[0] as Json) : p;

/** `$id` is JSON Schema's, no field of an OpenAPI 3.0 schema object: the component's name says it. */
function component(s: Json | undefined): Json {
  const rest = { ...s };
  delete rest.$id;
  const properties = rest.properties;
  if (properties === undefined) return rest;
  return { ...rest, properties: Object.fromEntries(Object.entries(properties as Record<string, Json>).map(([k, p]) => [k, unwrap(p)])) };
}
