import * as path from 'node:path';
import type { FilterSpec, PathError } from '@filer/core';
import {
  duplicatesFromGroups,
  findDuplicates,
  findDuplicatesInStore,
  type DuplicatesResult,
  type DupeFile,
  type DupePhase,
  type HashAlgorithm,
} from '@filer/engine';
import { findDuplicatesNatively } from '../local/native-dupes.js';
import { canScanNatively, dupeFilesOf, scanTreeNatively } from '../local/scan-files.js';
import { openSource } from '../open-source.js';
import { openStateDb } from '../state/state-db.js';
import { SqliteHashCache } from '../state/sqlite-hash-cache.js';
import { defaultStatePath } from '../state/state-location.js';
import type { DupeFileList, SourceHasher, WalkSource } from '../walk-source.js';
import { DUPES_SPILL_AFTER, SpillingDupeFiles } from './spilling-dupe-files.js';

/** One duplicate search: what to compare and where its hashes are cached. */
export interface DupesJob {
  roots: readonly string[];
  spec: FilterSpec;
  algorithm: HashAlgorithm;
  /** The state database holding the hash cache; undefined runs without one. */
  cachePath?: string;
  includeEmpty: boolean;
}

/** How the job may run: the native scanner (when built) and the portable walk's helper start. */
export interface DupesJobOptions {
  native: boolean;
  /** The portable walk's helper threads start after this long (default DUPES_SPAWN_AFTER_MS). */
  spawnAfterMs?: number;
  /** The engine's pipeline keeps this many walked files in memory, then spills them to disk (default DUPES_SPILL_AFTER). */
  spillAfter?: number;
  /** Where spilled files go (default: `spill` beside the hash cache's database, or the default one). */
  spillDir?: string;
}

/** Where the job is, for a progress line: read at any time while it runs. */
export interface DupesProgress {
  readonly phase: DupePhase;
  /** Files (objects on S3) found so far by a walk that reports them one by one. */
  readonly scanned: number;
  readonly filesHashed: number;
  readonly bytesHashed: number;
  /** The source's kind: 's3' lists objects, the others scan files. */
  readonly sourceKind: WalkSource['kind'];
}

/** What the job tells its caller as it goes (the CLI prints it; a worker may log it). */
export interface DupesJobPorts {
  /** A file or directory that could not be read: left out, the run goes on. */
  onError(e: PathError): void;
  /** What the filters mean on this source where it differs from a disk. */
  onNote?(note: string): void;
  /** Called once, when the hashing is set up and the walk starts: the view stays live until the end. */
  onStart?(progress: DupesProgress): void;
}

export interface DupesJobResult extends DuplicatesResult {
  /** Failures reported through onError (walk and hashing). */
  failures: number;
}

/**
 * The dupes walk stays on this thread this long before helper walkers start. A helper costs its
 * start-up (loading modules on a fresh thread) while the hashing threads are still to come: on
 * trees of 50,000–100,000 files walking alone was faster and took less CPU; bigger trees still get
 * helpers. FILER_WALK_SPAWN_AFTER_MS overrides it.
 */
const DUPES_SPAWN_AFTER_MS = 250;

/**
 * Once the walk has found this many files, the hashing threads start: their start-up then overlaps
 * the walk instead of delaying the first sample, and a small tree still never pays for them.
 */
const HASHERS_START_AFTER_FILES = 2000;

/**
 * Runs one duplicate search and chooses its pipeline: on local roots with the native scanner and a
 * spec it can walk (see `canScanNatively`), the whole pipeline in the addon (any number of roots,
 * overlapping or not; name and stat filters applied to its scan before grouping); otherwise the
 * engine's `findDuplicates` over the portable walk (or an S3 listing), with the sqlite hash cache
 * where the source allows one. The groups come back in report order; printing them is the caller's.
 */
export async function runDupesJob(job: DupesJob, opts: DupesJobOptions, ports: DupesJobPorts): Promise<DupesJobResult> {
  // Local (native or node:fs) or S3, chosen once; S3 roots are checked here and only they load the AWS SDK.
  const source = await openSource(job.roots, { native: opts.native });
  try {
    for (const note of source.notes(job.spec)) ports.onNote?.(note);
    const hasher = await source.hasher(job.algorithm, job.spec.follow);
    try {
      return await dupesIn(source, hasher, job, opts, ports);
    } finally {
      await hasher.close();
    }
  } finally {
    source.close();
  }
}

async function dupesIn(
  source: WalkSource,
  hasher: SourceHasher,
  job: DupesJob,
  opts: DupesJobOptions,
  ports: DupesJobPorts,
): Promise<DupesJobResult> {
  let failures = 0;
  let phase: DupePhase = 'scan';
  let scanned = 0;
  // Files and bytes hashed by the native pipeline, beside the hasher's own counts.
  const nativeHashed = new Float64Array(2);
  ports.onStart?.({
    get phase() {
      return phase;
    },
    get scanned() {
      return scanned;
    },
    get filesHashed() {
      return hasher.filesHashed + nativeHashed[0];
    },
    get bytesHashed() {
      return hasher.bytesRead + nativeHashed[1];
    },
    sourceKind: source.kind,
  });
  const onPhase = (p: DupePhase): void => void (phase = p);
  const reportError = (e: PathError): void => {
    failures++;
    ports.onError(e);
  };
  const roots = [...job.roots];
  const db = job.cachePath === undefined || !source.cachesHashes ? undefined : openStateDb(job.cachePath);
  let spill: SpillingDupeFiles | undefined;
  try {
    const cache = db === undefined ? undefined : new SqliteHashCache(db);
    // The native tree scan when the spec allows it (no ignore files, excludes or -L): several
    // threads list and stat at once, matching each file against the cache as they go. The portable
    // walk otherwise.
    const tryNative = source.kind === 'local-native' && canScanNatively(job.spec);
    const cacheRows = tryNative ? cache?.rowsUnder(roots, job.algorithm) : undefined;
    // A warm rerun hashes nothing: threads started for it would only take CPU from the walk.
    const startHashersEarly =
      cache === undefined || (cacheRows !== undefined ? cacheRows.rows.length === 0 : !cache.hasEntriesUnder(roots, job.algorithm));
    // Hashing threads that will be needed start first: they load while the scan runs.
    if (startHashersEarly && tryNative) hasher.start();
    // The cache's rows in hand (or no cache): the whole pipeline runs in the addon, and its files
    // never become records here. It hands the scan back when hashes are missing that only the
    // engine makes (sha256).
    const whole =
      tryNative && (cache === undefined || cacheRows !== undefined)
        ? await findDuplicatesNatively(roots, job.spec, {
            cacheRows,
            includeEmpty: job.includeEmpty,
            emptyHash: hasher.emptyHash(),
            canHash: job.algorithm === 'xxh128',
            progress: nativeHashed,
            onPhase,
          })
        : undefined;
    let result: DuplicatesResult;
    if (whole?.kind === 'grouped') {
      whole.scanErrors.forEach(reportError);
      if (cacheRows !== undefined && whole.served !== undefined) cache?.markServed(cacheRows, whole.served, job.algorithm);
      cache?.storeRows(whole.rows, job.algorithm);
      result = duplicatesFromGroups(whole.groups, whole.stats, whole.errors);
    } else {
      let files: DupeFile[];
      // A tree too large for the native pipeline is too large for the native scan too: not scanned again.
      const native =
        whole?.kind === 'files'
          ? whole.scan
          : tryNative && whole?.kind !== 'too-large'
            ? scanTreeNatively(roots, job.spec, { cacheRows })
            : undefined;
      if (native !== undefined) {
        native.errors.forEach(reportError);
        if (cacheRows !== undefined && native.served !== undefined) cache?.markServed(cacheRows, native.served, job.algorithm);
        files = dupeFilesOf(native);
        scanned = files.length;
      } else {
        const list: DupeFileList = source.dupeFiles();
        spill = new SpillingDupeFiles(
          opts.spillAfter ?? DUPES_SPILL_AFTER,
          opts.spillDir ?? path.join(path.dirname(job.cachePath ?? defaultStatePath()), 'spill'),
        );
        const into = spill;
        files = into.files;
        const walk = source.walk({
          spec: job.spec,
          statAll: true,
          identity: true,
          output: { kind: 'entries' },
          spawnAfterMs: opts.spawnAfterMs ?? DUPES_SPAWN_AFTER_MS,
          onEntries: (entries) => {
            list.add(entries);
            // Taken from the source's list as they come: the records live in one place, on disk once spilled.
            into.add(list.files.splice(0));
            scanned = into.count;
            if (startHashersEarly && scanned >= HASHERS_START_AFTER_FILES) hasher.start();
          },
          onError: reportError,
        });
        await walk.done;
      }
      const engine = { hasher, cache, includeEmpty: job.includeEmpty, emptyHash: hasher.emptyHash(), onPhase };
      const spilled = spill?.spilled;
      result = spilled === undefined ? await findDuplicates(files, engine) : await findDuplicatesInStore(spilled, engine);
    }
    for (const e of result.errors) reportError(e);
    cache?.evict();
    return { ...result, failures };
  } finally {
    spill?.close();
    db?.close();
  }
}
