import type { FileEntry } from '@filer/core';
import type { HashOutcome } from '@filer/engine';
import type { WalkSource } from '../walk-source.js';

/**
 * sha256 of a manifest's files, read from their source — local files on the hashing threads (each
 * checked against the identity its walk recorded), objects over ranged GETs (never the ETag). One
 * outcome per path (a key listed twice by overlapping roots is read once). The CLI's manifest and a
 * cluster's manifest hash shard both hash here.
 */
export async function hashManifestFiles(
  source: WalkSource,
  files: readonly FileEntry[],
  follow: boolean,
): Promise<Map<string, HashOutcome>> {
  const list = source.dupeFiles();
  list.add(files);
  const hasher = await source.hasher('sha256', follow);
  try {
    const outcomes = await hasher.hash(list.files, 'full');
    return new Map(outcomes.map((o, i) => [list.files[i].path, o]));
  } finally {
    await hasher.close();
  }
}
