import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExitCode, invalidArgument } from '@filer/core';
import { isS3Uri } from '@filer/storage';
import {
  dupeDirsToCsv,
  dupeDirsToJsonDocument,
  dupeDirsToNdjson,
  dupeDirsToText,
  findDupeDirs,
  type DirOtherEntry,
  type DupeDirsReport,
  type DupeGroup,
} from '@filer/engine';
import type { CliContext } from '../cli-context.js';
import type { CliConfig } from '../config.js';
import { searchDupes } from './dupes-command.js';
import type { DupesPlan } from './dupes-plan.js';

// `filer dupes ROOT… --dirs`: the duplicate search as for the report, then equal directories and
// directories whose files all have copies elsewhere, from its groups (engine's findDupeDirs). No
// file is read again: the directories holding a duplicate (and those above them) are listed once
// more, to learn which other entries they hold.

const QUARANTINE = '.filer-quarantine';

export async function runDupeDirs(
  plan: DupesPlan,
  ctx: CliContext,
  opts: { progress: boolean; quiet: boolean; config: CliConfig },
): Promise<number> {
  const s3 = plan.roots.find(isS3Uri);
  if (s3 !== undefined) throw invalidArgument('dirs', s3, '--dirs compares local directories: S3 prefixes are not supported yet');
  const result = await searchDupes(plan, ctx, opts);
  // Paths as the walk wrote them (ROOT + '/' + name…), so roots are only stripped of a trailing slash.
  const roots = plan.roots.map((r) => r.replace(/(.)\/+$/, '$1'));
  const report = findDupeDirs(roots, result.groups, otherEntries(roots, result.groups));
  ctx.stdout(renderDupeDirs(report, plan.format));
  return result.failures > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

function renderDupeDirs(report: DupeDirsReport, format: DupesPlan['format']): string {
  switch (format) {
    case 'text':
      return dupeDirsToText(report);
    case 'ndjson':
      return dupeDirsToNdjson(report);
    case 'csv':
      return dupeDirsToCsv(report);
    case 'json':
      return dupeDirsToJsonDocument(report);
  }
}

/**
 * Every entry no group holds in the directories that hold a grouped file, or lie between one and
 * its root: empty files as 'empty'; other files, symlinks and the like, and subdirectories with a
 * file somewhere below them, as 'unique'. Subdirectories with no file at any depth are ignored.
 * Entries the dupes filters left out (other extensions, hidden files…) count as unique: a
 * directory is equal to another only when all it holds is known to be.
 */
function otherEntries(roots: readonly string[], groups: readonly DupeGroup[]): DirOtherEntry[] {
  const grouped = new Set<string>();
  const candidates = new Set<string>();
  const inRoot = (d: string): boolean => roots.some((r) => d === r || d.startsWith(r === '/' ? '/' : r + '/'));
  for (const g of groups)
    for (const p of g.paths) {
      grouped.add(p);
      for (let d = path.dirname(p); inRoot(d) && !candidates.has(d); d = path.dirname(d)) {
        candidates.add(d);
        if (roots.includes(d)) break;
      }
    }
  const out: DirOtherEntry[] = [];
  for (const dir of candidates) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      out.push({ path: childOf(dir, '\0unreadable'), size: 0, content: 'unique' });
      continue;
    }
    for (const e of entries) {
      if (e.name === QUARANTINE) continue;
      const p = childOf(dir, e.name);
      if (grouped.has(p) || candidates.has(p)) continue;
      if (e.isDirectory()) {
        if (holdsAnyFile(p)) out.push({ path: p, size: 0, content: 'unique' });
      } else if (e.isFile()) {
        const size = sizeOf(p);
        out.push({ path: p, size: size ?? 0, content: size === 0 ? 'empty' : 'unique' });
      } else out.push({ path: p, size: 0, content: 'unique' });
    }
  }
  return out;
}

const childOf = (dir: string, name: string): string => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);

function sizeOf(p: string): number | undefined {
  try {
    return fs.lstatSync(p).size;
  } catch {
    return undefined;
  }
}

/** Whether anything but directories lies below `dir` (stops at the first such entry). */
function holdsAnyFile(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  return entries.some((e) => e.name !== QUARANTINE && (!e.isDirectory() || holdsAnyFile(childOf(dir, e.name))));
}
