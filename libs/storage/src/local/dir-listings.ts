import * as fs from 'node:fs';

/** Targets looked up with lstat in one directory before its names are read instead. */
const LSTATS_FIRST = 2;
/** A directory with more names than this is left to lstat: its listing is not held. */
const LISTING_MAX = 65_536;
/** Names held over all listings before the cache starts over (bounded whatever the plan's size). */
const NAMES_MAX = 262_144;

const ASCII = /^[\x20-\x7e]*$/;

/** One directory's names: exact, and folded (ASCII lower case) to see a case-insensitive match. */
interface Listing {
  exact: Set<string>;
  folded: Set<string>;
}

/**
 * Whether a name exists in a directory, from the directory's listing read once instead of an lstat
 * per name (a rename plans every file of a directory into that directory: one readdir instead of
 * as many lstats as it has files). Only answers what a listing answers for certain, and leaves the
 * rest to lstat (`undefined`):
 *
 * - a name found as listed exists (lstat would find it: readdir lists links and every other kind);
 * - an ASCII name whose ASCII lower case matches no listed name does not exist on any file system
 *   that folds case (they fold ASCII as lower case does); a listed name differing in case only, or
 *   any name or listing with other characters (Unicode folding and normalisation differ between
 *   file systems), is left to lstat;
 * - a directory that cannot be read (EACCES with search allowed, say), or holds more than
 *   LISTING_MAX names, is left to lstat.
 *
 * The first few names of a directory go to lstat anyway: a directory with one target is not read
 * whole. Memory is bounded: NAMES_MAX names over all listings, LISTING_MAX in one.
 */
export class DirListings {
  private readonly listings = new Map<string, Listing | null>();
  private readonly lstats = new Map<string, number>();
  private held = 0;

  /** true or false when the listing says so for certain; undefined: ask lstat. */
  has(dir: string, name: string): boolean | undefined {
    if (!ASCII.test(name) || name === '' || name === '.' || name === '..') return undefined;
    let listing = this.listings.get(dir);
    if (listing === undefined) {
      const n = (this.lstats.get(dir) ?? 0) + 1;
      if (n <= LSTATS_FIRST) {
        if (this.lstats.size >= NAMES_MAX) this.lstats.clear();
        this.lstats.set(dir, n);
        return undefined;
      }
      listing = this.read(dir);
    }
    if (listing === null) return undefined;
    if (listing.exact.has(name)) return true;
    return listing.folded.has(name.toLowerCase()) ? undefined : false;
  }

  private read(dir: string): Listing | null {
    const listing: Listing | null = readListing(dir);
    const size = listing === null ? 1 : listing.exact.size + 1;
    if (this.held + size > NAMES_MAX) {
      this.listings.clear();
      this.held = 0;
    }
    this.held += size;
    this.listings.set(dir, listing);
    this.lstats.delete(dir);
    return listing;
  }
}

/** Above this size (st_size, bytes) a directory is read as a stream, stopping at LISTING_MAX names; below, at once. */
const SMALL_DIR_BYTES = 1 << 20;

/** The directory's names, or null when it cannot be read whole, is too large, or holds a name that is not plain ASCII. */
function readListing(dir: string): Listing | null {
  let names: string[] | null;
  try {
    // st_size grows with the names (ext4, xfs, btrfs, tmpfs): a small one is read in one call.
    const size = fs.statSync(dir).size;
    names = size > 0 && size <= SMALL_DIR_BYTES ? fs.readdirSync(dir) : streamedNames(dir);
  } catch {
    return null;
  }
  if (names === null || names.length > LISTING_MAX) return null;
  const exact = new Set<string>();
  const folded = new Set<string>();
  for (const name of names) {
    if (!ASCII.test(name)) return null;
    exact.add(name);
    folded.add(name.toLowerCase());
  }
  return { exact, folded };
}

/** A directory's names read a few at a time, or null past LISTING_MAX (never held whole). */
function streamedNames(dir: string): string[] | null {
  const d = fs.opendirSync(dir, { bufferSize: 256 });
  const names: string[] = [];
  try {
    for (let e = d.readSync(); e !== null; e = d.readSync()) {
      if (names.length >= LISTING_MAX) return null;
      names.push(e.name);
    }
  } finally {
    d.closeSync();
  }
  return names;
}
