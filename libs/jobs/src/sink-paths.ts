import type { JobSpec } from '@filer/core';

/** What openSink decides local or S3 from: a job's roots (the files it acts on) and its destination. */
export interface SinkPaths {
  sources: string[];
  targets: string[];
}

/** The sink paths of a batch job, carried in its apply and undo shards' payloads (they open the sink in another process). */
export function sinkPaths(spec: JobSpec): SinkPaths {
  return { sources: spec.roots, targets: spec.options.dest === undefined ? [] : [spec.options.dest] };
}
