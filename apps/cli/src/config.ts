import { FilerError } from '@filer/core';
import { parseFaultSpec, type FaultSpec } from '@filer/engine';

/** Tuning knobs from the environment, read in this one place and validated. */
export interface CliConfig {
  /** FILER_NATIVE_SCAN=0 forces the portable node:fs walker. */
  nativeScan: boolean;
  /** FILER_WALK_SPAWN_AFTER_MS: how long the main thread walks alone before helper threads start. */
  spawnAfterMs?: number;
  /** FILER_DUPES_SPILL_AFTER: walked files the dupes pipeline holds in memory before spilling to disk. */
  dupesSpillAfter?: number;
  /** FILER_FAULT=<step>:<n>: the crash tests' fault point (the process SIGKILLs itself there). */
  fault?: FaultSpec;
  /** FILER_LOG_FORMAT=text|json: stderr as text lines (default) or JSON lines (--log-format wins). */
  logFormat: 'text' | 'json';
}

export function readCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const native = env.FILER_NATIVE_SCAN;
  if (native !== undefined && native !== '0' && native !== '1') {
    throw new FilerError('E_INVALID_ARGUMENT', `must be 0 or 1, not '${native}'`, { field: 'FILER_NATIVE_SCAN', value: native });
  }
  const spawn = env.FILER_WALK_SPAWN_AFTER_MS;
  if (spawn !== undefined && !/^\d+$/.test(spawn)) {
    throw new FilerError('E_INVALID_ARGUMENT', `must be a whole number of milliseconds, not '${spawn}'`, {
      field: 'FILER_WALK_SPAWN_AFTER_MS',
      value: spawn,
    });
  }
  const spill = env.FILER_DUPES_SPILL_AFTER;
  if (spill !== undefined && !/^\d+$/.test(spill)) {
    throw new FilerError('E_INVALID_ARGUMENT', `must be a whole number of files, not '${spill}'`, {
      field: 'FILER_DUPES_SPILL_AFTER',
      value: spill,
    });
  }
  const fault = env.FILER_FAULT === undefined || env.FILER_FAULT === '' ? undefined : parseFaultSpec(env.FILER_FAULT, 'FILER_FAULT');
  const logFormat = env.FILER_LOG_FORMAT === undefined || env.FILER_LOG_FORMAT === '' ? 'text' : env.FILER_LOG_FORMAT;
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new FilerError('E_INVALID_ARGUMENT', `must be text or json, not '${logFormat}'`, { field: 'FILER_LOG_FORMAT', value: logFormat });
  }
  return {
    nativeScan: native !== '0',
    spawnAfterMs: spawn === undefined ? undefined : Number(spawn),
    dupesSpillAfter: spill === undefined ? undefined : Number(spill),
    logFormat,
    ...(fault ? { fault } : {}),
  };
}
