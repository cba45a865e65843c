import { invalidArgument } from '@filer/core';
import { DEDUPE_OPS, parseKeepRule, type DedupeOp, type KeepRule } from '@filer/engine';
import { isS3Uri, parseS3Uri, realDir, resolveDestDir } from '@filer/storage';

/** The flags of `filer dupes` that act on the duplicates found. */
export interface DedupeFlags {
  action?: string;
  moveTo?: string;
  keep?: string[];
  reference?: string[];
  isolate?: boolean;
  ignorePerms?: boolean;
  apply?: boolean;
}

/** A validated `--action` request: roots and directories resolved, rules parsed; nothing touched yet. */
export interface DedupeRequest {
  op: DedupeOp;
  /** The roots as given, resolved (realpath), in order. */
  roots: string[];
  keep: KeepRule[];
  reference: Set<number>;
  isolate: boolean;
  ignorePerms: boolean;
  moveTo?: string;
  apply: boolean;
}

const ONLY_WITH_ACTION = ['moveTo', 'keep', 'reference', 'isolate', 'ignorePerms', 'apply'] as const;
const FLAG: Record<(typeof ONLY_WITH_ACTION)[number], string> = {
  moveTo: '--move-to',
  keep: '--keep',
  reference: '--reference',
  isolate: '--isolate',
  ignorePerms: '--ignore-perms',
  apply: '--apply',
};

const given = (v: unknown): boolean => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false);

/**
 * Checks the action flags of `filer dupes` before anything runs. Undefined when no --action was
 * given (a report); the other action flags without --action are an error, as is an unknown action,
 * --move-to missing or given for another action, a reference that is not one of the roots, S3 roots.
 */
export function resolveDedupeRequest(roots: readonly string[], flags: DedupeFlags, format: string): DedupeRequest | undefined {
  if (flags.action === undefined) {
    const stray = ONLY_WITH_ACTION.find((k) => given(flags[k]));
    if (stray !== undefined) throw invalidArgument(stray, String(flags[stray]), `${FLAG[stray]} acts on duplicates: give --action too`);
    return undefined;
  }
  const op = flags.action as DedupeOp;
  if (!(DEDUPE_OPS as readonly string[]).includes(op))
    throw invalidArgument('action', flags.action, `unknown --action '${flags.action}': expected one of ${DEDUPE_OPS.join(', ')}`);
  if (op === 'move-to' && (flags.moveTo === undefined || flags.moveTo === ''))
    throw invalidArgument('moveTo', '', '--action move-to needs --move-to DIR: the directory the copies are moved under');
  if (op !== 'move-to' && flags.moveTo !== undefined)
    throw invalidArgument('moveTo', flags.moveTo, `--move-to is for --action move-to, not ${op}`);
  if (format === 'csv') throw invalidArgument('format', format, 'a dedupe plan prints as text, ndjson or json (not csv)');
  const s3 = roots.find(isS3Uri);
  if (s3 !== undefined) checkObjectAction(op, s3, flags.moveTo);
  const onS3 = s3 !== undefined;
  // S3 roots are prefixes as given (checkRootKinds refused a mix with local ones): nothing to resolve.
  const real = onS3 ? [...roots] : roots.map((r) => realDir(r, 'root'));
  const reference = new Set<number>();
  // An S3 prefix names the same root with or without its trailing slash.
  const sameRoot = (r: string): string => (onS3 ? r.replace(/\/+$/, '') : r);
  for (const ref of flags.reference ?? []) {
    const i = real.map(sameRoot).indexOf(onS3 ? sameRoot(ref) : realDir(ref, '--reference'));
    if (i < 0)
      throw invalidArgument(
        'reference',
        ref,
        `--reference ${ref} is not one of the roots given: a reference root is searched too, so name it as a root as well`,
      );
    reference.add(i);
  }
  if (reference.size === real.length)
    throw invalidArgument('reference', flags.reference!.join(','), 'every root is a reference root: nothing could be acted on');
  return {
    op,
    roots: real,
    keep: (flags.keep ?? []).map(parseKeepRule),
    reference,
    isolate: flags.isolate === true,
    ignorePerms: flags.ignorePerms === true,
    ...(op === 'move-to' ? { moveTo: onS3 ? flags.moveTo! : resolveDestDir(flags.moveTo!, '--move-to') } : {}),
    apply: flags.apply === true,
  };
}

/**
 * On S3 only `remove` (a server-side copy into `s3://bucket/.filer-quarantine/<job>/<key>`, then
 * a delete) and `move-to` an `s3://` prefix: an object has no links, hard, symbolic or shared.
 */
function checkObjectAction(op: DedupeOp, root: string, moveTo: string | undefined): void {
  if (op !== 'remove' && op !== 'move-to')
    throw invalidArgument(
      'action',
      op,
      `--action ${op} needs files that can be linked; '${root}' is on S3, where an object has no links: use --action remove or move-to`,
    );
  if (op === 'move-to') {
    if (!isS3Uri(moveTo!))
      throw invalidArgument('moveTo', moveTo!, `--move-to ${moveTo} is local but the roots are on S3 ('${root}'): give an s3:// prefix`);
    parseS3Uri(moveTo!, '--move-to');
  }
}
