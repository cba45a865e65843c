import * as path from 'node:path';
import { QUARANTINE_NAME } from '@filer/core';
import type { JournalAction } from '../batch/batch-types.js';
import { OBJECT_DEV, type FileIdentity } from '../batch/file-identity.js';
import { keepOrder, relativeTo, type KeepRule } from './keep-rules.js';
import {
  type DedupeCandidate,
  type DedupeCopyPlan,
  type DedupeGroupInput,
  type DedupeGroupPlan,
  type DedupeOp,
  type DedupeSummary,
} from './dedupe-types.js';
import { belowDir, isObjectUri, objectQuarantineUri } from './object-quarantine.js';

export interface DedupeOptions {
  op: DedupeOp;
  /** Absolute, resolved, in the order given (first-root). */
  roots: readonly string[];
  keep: readonly KeepRule[];
  /** Indices of the roots given with --reference: their files are never acted on. */
  reference: ReadonlySet<number>;
  /** Only duplicates across different roots count. */
  isolate: boolean;
  /** `--move-to DIR`, absolute and resolved (move-to only). */
  moveTo?: string;
  /** The job the quarantine paths are named after ('<job>' for a plan that is only shown). */
  jobId: string;
  /** Allow a hard link between files whose owner, group or mode differ. */
  ignorePerms?: boolean;
}

/** Where a copy's inode goes: `<root>/.filer-quarantine/<job>/<path below the root>`. */
export function quarantinePath(root: string, jobId: string, copy: string): string {
  const rel = relativeTo(root, copy);
  // Joined by hand where path.join would change nothing (a plan makes one per copy): a normal root
  // without a trailing slash, a normal relative path and job id.
  if (root.length > 1 && !root.endsWith('/') && isNormalRelative(root.slice(1)) && isNormalRelative(rel) && isNormalRelative(jobId))
    return `${root}/${QUARANTINE_NAME}/${jobId}/${rel}`;
  return path.posix.join(root, QUARANTINE_NAME, jobId, rel);
}

/** A relative path path.normalize leaves as it is: non-empty, no empty, `.` or `..` segment, no leading or trailing slash. */
function isNormalRelative(p: string): boolean {
  return p !== '' && p[0] !== '/' && !p.endsWith('/') && !p.includes('//') && !`/${p}/`.includes('/./') && !`/${p}/`.includes('/../');
}

/** The relative symlink text that leads from `copy`'s directory to `kept`. */
export function relativeLink(copy: string, kept: string): string {
  return path.posix.relative(path.posix.dirname(copy), kept);
}

/**
 * Plans one group: which file stays and what happens to every other copy. Undefined when the
 * group has nothing to act on (all its files in reference roots, or with --isolate all in one root).
 * A group holding a reference file keeps a reference file; only copies outside reference roots
 * are acted on. Names of one inode count once (the finder reports one name per inode; a second
 * name met here is left alone).
 */
export function planDedupeGroup(g: DedupeGroupInput, opts: DedupeOptions): DedupeGroupPlan | undefined {
  const byRules = keepOrder(opts.keep, opts.roots);
  // Reference files first: a group holding one keeps one, and of two names of one inode the reference name stands for it.
  const isRef = (f: DedupeCandidate): number => (opts.reference.has(f.root) ? 0 : 1);
  const order = (a: DedupeCandidate, b: DedupeCandidate): number => isRef(a) - isRef(b) || byRules(a, b);
  const seen = new Set<string>();
  const files: DedupeCandidate[] = [];
  const untouched: DedupeCandidate[] = [];
  for (const f of [...g.files].sort(order)) {
    const key = `${f.dev}:${f.ino}`;
    if (seen.has(key)) untouched.push(f);
    else {
      seen.add(key);
      files.push(f);
    }
  }
  if (opts.isolate && new Set(files.map((f) => f.root)).size < 2) return undefined;
  const refs = files.filter((f) => opts.reference.has(f.root));
  const kept = refs[0] ?? files[0];
  if (kept === undefined) return undefined;
  const copies: DedupeCopyPlan[] = [];
  for (const f of files) {
    if (f === kept) continue;
    if (opts.reference.has(f.root) || (opts.isolate && f.root === kept.root)) untouched.push(f);
    else copies.push(copyPlan(f, kept, opts));
  }
  if (copies.length === 0) return undefined;
  return { size: g.size, hash: g.hash, kept, copies, untouched };
}

function copyPlan(copy: DedupeCandidate, kept: DedupeCandidate, opts: DedupeOptions): DedupeCopyPlan {
  const root = opts.roots[copy.root];
  const freed = copy.nlink > 1 ? 0 : copy.size;
  switch (opts.op) {
    case 'move-to':
      return { copy, op: opts.op, target: belowDir(opts.moveTo!, relativeTo(root, copy.path)), freed };
    case 'reflink':
      return { copy, op: opts.op, target: '', freed };
    case 'symlink':
      return {
        copy,
        op: opts.op,
        target: quarantinePath(root, opts.jobId, copy.path),
        linkText: relativeLink(copy.path, kept.path),
        freed,
      };
    default: {
      const target = isObjectUri(root) ? objectQuarantineUri(opts.jobId, copy.path) : quarantinePath(root, opts.jobId, copy.path);
      return { copy, op: opts.op, target, freed };
    }
  }
}

/**
 * Why a planned hard link cannot be made, or undefined: never across devices, and (unless
 * `ignorePerms`) only between files of one owner, group and mode, as jdupes does.
 */
export function hardlinkBlocker(copy: DedupeCandidate, kept: DedupeCandidate, ignorePerms: boolean): string | undefined {
  if (copy.dev !== kept.dev) return `E_CROSS_DEVICE: ${copy.path} is on another device than ${kept.path}; not linked`;
  if (ignorePerms) return undefined;
  if (copy.uid !== kept.uid || copy.gid !== kept.gid || copy.mode !== kept.mode)
    return (
      `E_PERMS_DIFFER: ${copy.path} (owner ${copy.uid}, group ${copy.gid}, mode ${copy.mode.toString(8)}) and ${kept.path} ` +
      `(owner ${kept.uid}, group ${kept.gid}, mode ${kept.mode.toString(8)}) differ; not linked (--ignore-perms allows it)`
    );
  return undefined;
}

/** A copy the plan will not act on, with the reason (E_PERMS_DIFFER, E_CROSS_DEVICE, E_CONFLICT). */
export interface DedupeSkip {
  copy: DedupeCandidate;
  kept: DedupeCandidate;
  reason: string;
}

/** A whole dedupe plan: the groups that act, each copy's action (or why it is skipped), and the totals. */
export interface DedupePlan {
  groups: DedupeGroupPlan[];
  skipped: DedupeSkip[];
  summary: DedupeSummary;
}

/** What planning one group gave: its plan when some copy is acted on, and the copies skipped. */
export interface DedupeGroupOutcome {
  plan?: DedupeGroupPlan;
  skipped: DedupeSkip[];
}

/**
 * The move-to targets claimed so far, so two copies bound for one path are caught (the second is
 * skipped). In memory by default; the CLI passes one on disk, so a plan holds no record per copy.
 */
export interface DedupeTargetClaims {
  /** True the first time a target is claimed, false after. */
  claim(target: string): boolean;
}

/** DedupeTargetClaims in a Set: one string per move-to copy. */
export class MemoryTargetClaims implements DedupeTargetClaims {
  private readonly seen = new Set<string>();
  claim(target: string): boolean {
    if (this.seen.has(target)) return false;
    this.seen.add(target);
    return true;
  }
}

/**
 * Plans groups one at a time as they come, holding nothing between them but `claims` (move-to
 * only): the streaming form of planDedupe. Hard links that cannot be made, and move-to targets two
 * copies would share, go from a group's copies to its `skipped`. Yields only groups that act or skip.
 */
export function* planDedupeGroups(
  groups: Iterable<DedupeGroupInput>,
  opts: DedupeOptions,
  claims: DedupeTargetClaims = new MemoryTargetClaims(),
): Generator<DedupeGroupOutcome> {
  for (const g of groups) {
    const plan = planDedupeGroup(g, opts);
    if (plan === undefined) continue;
    const skipped: DedupeSkip[] = [];
    plan.copies = plan.copies.filter((c) => {
      const reason =
        opts.op === 'hardlink'
          ? hardlinkBlocker(c.copy, plan.kept, opts.ignorePerms === true)
          : opts.op === 'move-to' && !claims.claim(c.target)
            ? `E_CONFLICT: another copy is moved to ${c.target}; not moved`
            : undefined;
      if (reason !== undefined) skipped.push({ copy: c.copy, kept: plan.kept, reason });
      return reason === undefined;
    });
    if (plan.copies.length > 0) yield { plan, skipped };
    else if (skipped.length > 0) yield { skipped };
  }
}

/** Adds a group's acted copies to the totals. */
export function addToSummary(summary: DedupeSummary, plan: DedupeGroupPlan): void {
  summary.groups++;
  summary.files += plan.copies.length;
  for (const c of plan.copies) summary.bytes += c.freed;
}

/**
 * Plans every group, held in memory (the API's plans and the tests; the CLI streams
 * planDedupeGroups). Same groups, skips and totals as planDedupeGroups gives.
 */
export function planDedupe(groups: Iterable<DedupeGroupInput>, opts: DedupeOptions): DedupePlan {
  const out: DedupeGroupPlan[] = [];
  const skipped: DedupeSkip[] = [];
  const summary: DedupeSummary = { groups: 0, files: 0, bytes: 0 };
  for (const o of planDedupeGroups(groups, opts)) {
    skipped.push(...o.skipped);
    if (o.plan === undefined) continue;
    out.push(o.plan);
    addToSummary(summary, o.plan);
  }
  return { groups: out, skipped, summary };
}

/** The identity a journal keeps of a planned file: an object's is its size, LastModified and ETag (no inode: 0). */
function journalIdOf(f: DedupeCandidate): FileIdentity {
  const { dev, ino, size, mtimeNs, etag } = f;
  return dev === OBJECT_DEV ? { dev, ino: 0, size, mtimeNs, ...(etag === undefined ? {} : { etag }) } : { dev, ino, size, mtimeNs };
}

/** The journal's actions of one planned group, one per copy: the copy is the source, where it goes the target, the kept file in the step. */
export function* dedupeGroupJournalRows(g: DedupeGroupPlan): Generator<Omit<JournalAction, 'seq' | 'state'>> {
  const keptId = journalIdOf(g.kept);
  for (const c of g.copies)
    yield {
      source: c.copy.path,
      target: c.target,
      size: c.copy.size,
      overwrite: false,
      sourceId: journalIdOf(c.copy),
      dedupe: { op: c.op, kept: g.kept.path, keptId, ...(c.linkText === undefined ? {} : { linkText: c.linkText }) },
    };
}

/** The journal's actions of a whole plan (the cluster's plan phase). */
export function* dedupeJournalRows(plan: DedupePlan): Generator<Omit<JournalAction, 'seq' | 'state'>> {
  for (const g of plan.groups) yield* dedupeGroupJournalRows(g);
}
