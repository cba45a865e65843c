import type { PathError } from '@filer/core';
import { toDupeGroups } from './dupe-report.js';
import type { DupeFileStore } from './dupe-file-store.js';
import type { DupePhase, DupeStats } from './dupe-types.js';
import { withTotals, type DuplicatesResult, type FindDuplicatesOptions } from './find-duplicates.js';
import { hashSizeGroups, tracked, type FinalGroup, type HashRun, type Tracked } from './hash-size-groups.js';
import { collapseSizeGroup } from './size-groups.js';

/**
 * Candidates hashed per pass over the store: enough for the hashing threads to stay busy between
 * reads, few enough that the records in flight stay a few MB whatever the tree's size.
 */
const FILES_PER_PASS = 16_384;

/**
 * `findDuplicates` over a `DupeFileStore`: size groups are read one at a time, hard links
 * collapsed per group, and hashed in passes of about FILES_PER_PASS candidates, so memory holds
 * one pass and the groups found, never a record per walked file. Same groups, stats and report
 * order as `findDuplicates` over the same files (errors may come in another order: per pass).
 * A single size shared by more files than a pass is still read whole (empty files only when grouped).
 */
export async function findDuplicatesInStore(
  store: DupeFileStore,
  opts: FindDuplicatesOptions,
  filesPerPass = FILES_PER_PASS,
): Promise<DuplicatesResult> {
  await opts.onPhase?.('size');
  const stats: DupeStats = {
    files: store.count,
    hardLinks: 0,
    emptySkipped: 0,
    candidates: 0,
    sampled: 0,
    fullyHashed: 0,
    cacheHits: 0,
    bytesRead: 0,
    groups: 0,
    duplicateFiles: 0,
    wastedBytes: 0,
    errors: 0,
  };
  const errors: PathError[] = [];
  const final: FinalGroup[] = [];
  // Each pass runs the sample and full phases: a phase is announced once, when it first starts.
  const announced = new Set<DupePhase>();
  const onPhase = (p: DupePhase): void | Promise<void> => {
    if (announced.has(p)) return;
    announced.add(p);
    return opts.onPhase?.(p);
  };
  const run: HashRun = { hasher: opts.hasher, cache: opts.cache, stats, errors, onPhase };
  let pass: Tracked[][] = [];
  let inPass = 0;
  if (!opts.includeEmpty) {
    // Skipped empty files are only counted (in the store: there may be a great many of them).
    const empty = store.emptyCounts();
    stats.files -= empty.files - empty.inodes;
    stats.hardLinks += empty.names - empty.inodes;
    stats.emptySkipped += empty.inodes;
  }
  for (const group of store.sizeGroups(opts.includeEmpty)) {
    const files = group.map((r) => r.file);
    const { inodes, hardLinks, dropped } = collapseSizeGroup(files);
    stats.files -= dropped;
    stats.hardLinks += hardLinks;
    if (files[0].size === 0) {
      if (inodes.length > 1) final.push({ files: inodes.map((i) => files[i]), hash: opts.emptyHash });
      continue;
    }
    if (inodes.length < 2) continue;
    pass.push(inodes.map((i) => tracked(files[i], group[i].rank)));
    inPass += inodes.length;
    if (inPass >= filesPerPass) {
      await hashSizeGroups(pass, final, run);
      pass = [];
      inPass = 0;
    }
  }
  if (pass.length > 0 || announced.size === 0) await hashSizeGroups(pass, final, run);
  opts.cache?.flush?.();
  await opts.onPhase?.('done');
  stats.bytesRead = opts.hasher.bytesRead;
  return withTotals(toDupeGroups(final), stats, errors);
}
