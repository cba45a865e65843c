import type { FilterSpec } from '@filer/core';
import type { ParallelWalkOptions, WalkHandle } from './local/parallel-walk.js';

/** What a walk asks of its source: everything the threaded local walk takes but the scanner choice, made once in openSource. */
export type SourceWalkOptions = Omit<ParallelWalkOptions, 'roots' | 'native'>;

/**
 * The roots of one command as a walk source. The adapters answer the same calls: the local one
 * with the threaded walk (the native scanner, or node:fs), the S3 one with paged listings. A
 * caller never asks which it has; `kind` is for logs and tests.
 */
export interface WalkSource {
  readonly kind: 'local-native' | 'local-portable' | 's3';
  readonly roots: readonly string[];
  /** What the filters mean here where it differs from a disk, for a note on stderr (empty when nothing applies). */
  notes(spec: FilterSpec): string[];
  walk(opts: SourceWalkOptions): WalkHandle;
  /** Releases connections (S3); the source is not used afterwards. */
  close(): void;
}
