import type { FileEntry, FilterSpec, PathError } from '@filer/core';
import { comparePaths } from '@filer/engine';
import { openSource } from '../open-source.js';
import type { WalkSource } from '../walk-source.js';
import { hashManifestFiles } from './hash-manifest-files.js';
import { openManifestOut, type ManifestOut } from './manifest-out.js';

/** One manifest: what to list, whether to hash, where it goes (undefined: the caller prints the text). */
export interface ManifestJob {
  roots: readonly string[];
  spec: FilterSpec;
  hash: boolean;
  out?: string;
}

/** A listing made elsewhere (a cluster's manifest job, for `filer --server`): its entries, error count and, hashed there, sha256s by path. */
export interface ManifestListing {
  entries: FileEntry[];
  errors: number;
  sha256?: ReadonlyMap<string, string>;
}

export interface ManifestJobOptions {
  /** The native scanner for local roots, when built. */
  native: boolean;
  /** The portable walk's helper threads start after this long. */
  spawnAfterMs?: number;
  /** Take the entries (and hashes) from here instead of walking the roots. */
  listing?: () => Promise<ManifestListing>;
}

/** One row: an entry, and its sha256 when hashed (absent for what is not a file or could not be read). */
export interface ManifestRow {
  entry: FileEntry;
  sha256?: string;
}

export interface ManifestJobPorts {
  /** A path that could not be listed or read: left out (or without its hash), the run goes on. */
  onError(e: PathError): void;
  /** The manifest's text in the caller's format. */
  render(rows: readonly ManifestRow[]): string;
}

export interface ManifestJobResult {
  rows: number;
  /** Failures: the walk's and the hashing's (reported through onError) and a listing's count. */
  failures: number;
  /** The rendered text, when the job has no `out`. */
  text?: string;
}

/**
 * The manifest use case: the roots opened once by openSource (local or S3, checked there), every
 * matching entry collected, sorted by path, hashed with the source's sha256 hasher with `hash`
 * (hashManifestFiles, which a cluster's hash shard uses too), rendered by the caller and written to
 * `out` as a new file or object (openManifestOut, checked before the walk starts).
 */
export async function runManifestJob(job: ManifestJob, opts: ManifestJobOptions, ports: ManifestJobPorts): Promise<ManifestJobResult> {
  const source = opts.listing === undefined ? await openSource(job.roots, { native: opts.native }) : undefined;
  let out: ManifestOut | undefined;
  let failures = 0;
  const onError = (e: PathError): void => {
    failures++;
    ports.onError(e);
  };
  try {
    // Checked before the walk: a manifest that cannot be written is not made.
    if (job.out !== undefined) out = await openManifestOut(job.out);
    let listing: ManifestListing;
    if (opts.listing !== undefined) {
      listing = await opts.listing();
      failures += listing.errors;
    } else listing = { entries: await walkEntries(source!, job, opts, onError), errors: 0 };
    const entries = listing.entries.sort((a, b) => comparePaths(a.path, b.path));
    const rows: ManifestRow[] = entries.map((entry) => ({ entry }));
    if (job.hash) {
      const files = rows.filter((r) => r.entry.kind === 'file');
      if (listing.sha256 !== undefined) {
        // Hashed where they were listed; their failures are in the listing's error count.
        for (const r of files) r.sha256 = listing.sha256.get(r.entry.path);
      } else {
        // A listing made elsewhere without hashes is read from its own paths' source.
        const from = source ?? (await openSource([files[0]?.entry.path ?? ''], { native: opts.native }));
        try {
          const outcomes = await hashManifestFiles(
            from,
            files.map((r) => r.entry),
            job.spec.follow,
          );
          for (const r of files) {
            const o = outcomes.get(r.entry.path)!;
            if ('error' in o) onError(o.error);
            else r.sha256 = o.hash;
          }
        } finally {
          if (from !== source) from.close();
        }
      }
    }
    const text = ports.render(rows);
    if (out === undefined) return { rows: rows.length, failures, text };
    await out.write(text);
    return { rows: rows.length, failures };
  } finally {
    out?.close();
    source?.close();
  }
}

/** Every matching entry with size and mtime (and identity, to check each file before hashing it). */
async function walkEntries(
  source: WalkSource,
  job: ManifestJob,
  opts: ManifestJobOptions,
  onError: (e: PathError) => void,
): Promise<FileEntry[]> {
  const entries: FileEntry[] = [];
  await source.walk({
    spec: job.spec,
    statAll: true,
    identity: job.hash,
    output: { kind: 'entries' },
    spawnAfterMs: opts.spawnAfterMs,
    onEntries: (es) => {
      for (const e of es) entries.push(e);
    },
    onError,
  }).done;
  return entries;
}
