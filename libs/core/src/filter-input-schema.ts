import { z } from 'zod';
import type { FilterInput } from './filter-spec.js';

/** The FilterInput shape as a zod schema, for request validation and OpenAPI (`@filer/core/schema`). */
export const FilterInputSchema = z
  .object(
    {
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
    },
    { error: (i) => (i.code === 'unrecognized_keys' ? `unknown filter '${i.keys[0]}'` : 'invalid filter: expected an object') },
  )
  .strict()
  .describe(
    'Which entries a job acts on. Sizes take units (B, K/KB=1000, Ki/KiB=1024, M, Mi, G, Gi, T, Ti); newer/older take an ISO date or a relative age (7d, 12h, 2w); type is f, d or l.',
  );

// The schema and the hand-written type must describe the same shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const FILTER_SCHEMA_MATCHES_TYPE: Same<z.infer<typeof FilterInputSchema>, FilterInput> = true;
