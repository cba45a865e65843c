import type { FilterSpec } from '@filer/core';
import type { FindFormat, SortKey } from '@filer/engine';

/** Everything `filer find` needs, resolved and validated before anything touches the disk. */
export interface FindPlan {
  roots: string[];
  format: FindFormat;
  nul: boolean;
  sort?: SortKey;
  limit?: number;
  threads?: number;
  spec: FilterSpec;
}
