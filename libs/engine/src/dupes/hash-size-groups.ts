import type { PathError } from '@filer/core';
import { sampleIsWhole } from './sample-layout.js';
import { splitByKey } from './size-groups.js';
import type { DupeFile, DupePhase, DupeStats, FileHasher, HashCache, HashOutcome, HashScope } from './dupe-types.js';

/** A candidate file on its way through the hashing phases. */
export interface Tracked {
  file: DupeFile;
  /** Position in the walk's order, which keeps a directory's files together. */
  rank: number;
  sample?: string;
  full?: string;
  fresh: boolean;
  /** Already written to the cache in this run. */
  stored: boolean;
  /** Its sample equals another file's: only a full hash can tell them apart. */
  collides: boolean;
}

/** A set of files found identical, with their hash. */
export interface FinalGroup {
  files: DupeFile[];
  hash: string;
}

/** What the hashing phases share with their caller: the ports, and where they count and report. */
export interface HashRun {
  hasher: FileHasher;
  cache?: HashCache;
  stats: DupeStats;
  errors: PathError[];
  onPhase?: (phase: DupePhase) => void | Promise<void>;
}

/**
 * With a cache, files are sent to the hasher this many at a time, one chunk ahead: the hashing
 * threads work on the next chunk while this thread writes the finished one to the cache.
 */
const HASH_CHUNK = 4096;

/** A walked file as a candidate: every field set from the start, one object shape for every file. */
export function tracked(file: DupeFile, rank: number): Tracked {
  return { file, rank, sample: undefined, full: undefined, fresh: false, stored: false, collides: false };
}

/**
 * The hashing phases over size groups (two or more distinct inodes of one non-zero size each):
 * a sample (head and tail) of every file, whole files only where samples collide; groups of
 * identical content are pushed to `final`. Hashes come from the cache while a file is unchanged;
 * a file that fails on the way is reported in `run.errors`, never as a duplicate.
 */
export async function hashSizeGroups(sized: readonly Tracked[][], final: FinalGroup[], run: HashRun): Promise<void> {
  const { hasher, cache, stats, errors } = run;
  const tracked = sized.flat();
  stats.candidates += tracked.length;

  // Hashes the source found in the cache as it listed the files; the rest are looked up here.
  const unasked: Tracked[] = [];
  for (const t of tracked) {
    const known = t.file.cached;
    if (known === undefined) unasked.push(t);
    else if (known?.sample !== undefined) {
      t.sample = known.sample;
      t.full = known.full;
      stats.cacheHits++;
    }
  }
  if (cache && unasked.length > 0) {
    const hits = cache.lookup(
      unasked.map((t) => t.file),
      hasher.algorithm,
    );
    hits.forEach((hit, i) => {
      if (hit?.sample === undefined) return;
      unasked[i].sample = hit.sample;
      unasked[i].full = hit.full;
      stats.cacheHits++;
    });
  }

  const failed = new Set<Tracked>();
  /** Files hashed in this run: a warm run has none, and skips every pass that looks for them. */
  let freshCount = 0;
  /** Writes the fresh, final results among `items` to the cache (a failed file is never written). */
  const storeFinal = (items: readonly Tracked[], final: (t: Tracked) => boolean): void => {
    if (!cache || freshCount === 0) return;
    const ready = items.filter((t) => t.fresh && !t.stored && !failed.has(t) && final(t));
    if (ready.length === 0) return;
    for (const t of ready) t.stored = true;
    cache.store(ready, hasher.algorithm);
  };
  const hashMissing = async (items: Tracked[], scope: HashScope): Promise<void> => {
    // Walk order reads a directory's files together, which the kernel's caches reward; it is a
    // number to compare, where sorting by path cost string comparisons of long common prefixes.
    const need = items.filter((t) => (scope === 'sample' ? t.sample === undefined : t.full === undefined)).sort((a, b) => a.rank - b.rank);
    if (need.length === 0) return;
    const chunk = cache ? HASH_CHUNK : need.length;
    const start = (from: number): Promise<HashOutcome[]> | undefined => {
      if (from >= need.length) return undefined;
      const p = hasher.hash(
        need.slice(from, from + chunk).map((t) => t.file),
        scope,
      );
      p.catch(() => undefined); // awaited below; this only keeps a failure that comes early from counting as unhandled
      return p;
    };
    let next = start(0);
    for (let from = 0; next !== undefined; from += chunk) {
      const current = next;
      next = start(from + chunk);
      const outcomes = await current;
      const part = need.slice(from, from + chunk);
      outcomes.forEach((o, i) => {
        const t = part[i];
        if ('error' in o) {
          failed.add(t);
          errors.push(o.error);
          return;
        }
        t.fresh = true;
        freshCount++;
        if (scope === 'sample') {
          t.sample = o.hash;
          if (o.whole) t.full = o.hash;
        } else t.full = o.hash;
      });
      // A whole hash is final; a sample alone is not until the samples are compared.
      storeFinal(part, (t) => t.full !== undefined);
    }
    if (scope === 'sample') stats.sampled += need.length;
    else stats.fullyHashed += need.length;
  };

  await run.onPhase?.('sample');
  await hashMissing(tracked, 'sample');
  const needFull: Tracked[][] = [];
  const sampleFinal: Tracked[] = [];
  for (const group of sized) {
    const alive = failed.size === 0 ? group : group.filter((t) => !failed.has(t));
    const subs = splitByKey(
      alive,
      alive.map((t) => t.sample),
    );
    for (const sub of subs) {
      if (sampleIsWhole(sub[0].file.size)) final.push({ files: sub.map((t) => t.file), hash: sub[0].sample! });
      else {
        needFull.push(sub);
        for (const t of sub) t.collides = true;
      }
    }
    // A sample no other file shares is all this run learns about the file: final.
    if (cache && freshCount > 0) for (const t of alive) if (!t.collides) sampleFinal.push(t);
  }
  storeFinal(sampleFinal, () => true);

  await run.onPhase?.('full');
  await hashMissing(needFull.flat(), 'full');
  for (const group of needFull) {
    const alive = failed.size === 0 ? group : group.filter((t) => !failed.has(t));
    for (const sub of splitByKey(
      alive,
      alive.map((t) => t.full),
    )) {
      final.push({ files: sub.map((t) => t.file), hash: sub[0].full! });
    }
  }

  // Whatever is fresh and not written yet (nothing, as the phases above write as they go).
  storeFinal(tracked, () => true);
}
