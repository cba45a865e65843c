import type { FilterSpec } from '@filer/core';
import type { DupesFormat, HashAlgorithm } from '@filer/engine';

/** A validated `filer dupes` request: nothing has touched the disk yet. */
export interface DupesPlan {
  roots: string[];
  spec: FilterSpec;
  format: DupesFormat;
  algorithm: HashAlgorithm;
  /** The state database holding the hash cache, or undefined with --no-cache. */
  cachePath?: string;
  includeEmpty: boolean;
}
