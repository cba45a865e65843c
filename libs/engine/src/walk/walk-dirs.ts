import {
  isSkippedName,
  isSourceFailure,
  type CompiledFilter,
  type EntryKind,
  type EntryStat,
  type FileEntry,
  type DirListing,
  KIND_OF_CODE,
  KindCode,
  type PathError,
  type Source,
} from '@filer/core';
import { childPath, type DirTask, type IgnoreSource } from './dir-task.js';
import { IGNORE_FILE_NAMES, IgnoreMatcher } from './ignore-rules.js';
import type { WalkStats } from './walk-stats.js';
import type { RecordLister, RecordQuery } from './record-listing.js';
import { recordFormatOf, recordQuery } from './record-query.js';
import type { FindFormat } from '../output/find-format.js';

/** Where a walk delivers what it finds. Called synchronously from the hot loop. */
export interface WalkSink {
  entry(entry: FileEntry): void;
  error(error: PathError): void;
  /** Records a source formatted itself (see WalkOptions.ndjson): `count` of them, terminators included, of files totalling `bytes`. */
  records?(text: string, count: number, bytes: number): void;
}

/** What the walk needs besides the filter: whether the output wants size and mtime. */
export interface WalkOptions {
  filter: CompiledFilter;
  /** The output needs size/mtime for every match (ndjson, csv, json, sort by size/mtime). */
  statAll: boolean;
  /** Also report dev, inode and the exact mtime of every match (implies statAll). */
  identity?: boolean;
  /**
   * The source's record lister, for a walk whose sink takes records (see WalkSink.records): used for
   * every directory whose files need no test the source cannot make itself (see recordQuery), so no
   * entry object is made per file and files the extension, size or mtime filters drop never reach JS.
   */
  ndjson?: RecordLister;
  /** The records' format (the find output's): ndjson unless said. */
  records?: { format: FindFormat; nul: boolean };
}

/** A source whose calls answer synchronously: the local file system on a worker thread. */
export type SyncSource = {
  [K in keyof Source]: Source[K] extends (...a: infer A) => infer R ? (...a: A) => Exclude<R, Promise<unknown>> : never;
};

function errnoOf(e: unknown): { code: string; message: string } {
  const err = e as { code?: string; message?: string };
  return { code: err.code ?? 'EIO', message: err.message ?? String(e) };
}

/**
 * Walks depth-first from the tasks on `stack` until it is empty or `shouldPause` says stop (then
 * the remaining tasks stay on the stack for the caller to hand to another thread or shard).
 * Stats only what a filter or the output needs, one batch per directory.
 */
export class DirWalker {
  private readonly ignoreMatcher = new IgnoreMatcher();
  private readonly needStat: boolean;
  /** Lists whole directories as records: set when the filter's tests are all ones the source can make. */
  private readonly lister: RecordLister | undefined;
  private readonly query: RecordQuery | undefined;

  constructor(
    private readonly source: SyncSource,
    private readonly options: WalkOptions,
    private readonly sink: WalkSink,
    readonly stats: WalkStats,
  ) {
    this.needStat = options.statAll || options.identity === true || options.filter.needsStat;
    const out = options.records ?? { format: 'ndjson', nul: false };
    this.query = recordQuery(options.filter, recordFormatOf(out.format, out.nul, options.statAll), options.identity === true);
    this.lister = this.query !== undefined && sink.records !== undefined ? options.ndjson : undefined;
  }

  run(stack: DirTask[], shouldPause?: () => boolean): void {
    while (stack.length > 0) {
      const task = stack.pop()!;
      this.visit(task, stack);
      if (shouldPause !== undefined && shouldPause()) return;
    }
  }

  private fail(path: string, e: unknown): void {
    const { code, message } = errnoOf(e);
    this.stats.errors++;
    this.sink.error({ path, code, message });
  }

  private visit(task: DirTask, stack: DirTask[]): void {
    const { source, options, sink, stats } = this;
    const { filter } = options;
    const spec = filter.spec;
    // Children sit one level below their directory: at the depth limit there is nothing to list.
    if (spec.maxDepth !== undefined && task.depth >= spec.maxDepth) return;
    if (this.lister !== undefined && task.ignores.length === 0 && this.visitFormatted(task, stack, this.lister)) return;
    let listing: DirListing;
    try {
      listing = source.listDir(task.path);
    } catch (e) {
      this.fail(task.path, e);
      return;
    }
    stats.dirs++;
    const { names, kinds } = listing;
    stats.entries += names.length;

    const ignores = spec.ignoreFiles ? this.withIgnoreFiles(task, listing) : task.ignores;
    const descend = spec.maxDepth === undefined || task.depth + 1 < spec.maxDepth;
    const childDepth = task.depth + 1;
    const { isExcluded, matchesName } = filter;
    const hidden = spec.hidden;
    const wantType = filter.type;

    // Entries whose kind needs a stat to know (unknown d_type, or a symlink under --follow).
    let unresolved: { name: string; kind: EntryKind | undefined }[] | undefined;
    // Matches that still need size/mtime.
    let toStat: string[] | undefined;
    let toStatKinds: EntryKind[] | undefined;

    const follow = spec.follow;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name.charCodeAt(0) === 46 && isSkippedName(name, hidden)) continue;
      const code = kinds[i];
      if (code === KindCode.Unknown || (follow && (code === KindCode.Symlink || code === KindCode.Dir))) {
        (unresolved ??= []).push({ name, kind: KIND_OF_CODE[code] });
        continue;
      }
      const kind = KIND_OF_CODE[code]!;
      if (isExcluded !== undefined || ignores.length > 0) {
        const rel = task.rel === '' ? name : task.rel + '/' + name;
        if (isExcluded !== undefined && isExcluded(name, rel)) continue;
        if (ignores.length > 0 && this.ignoreMatcher.isIgnored(ignores, rel, kind === 'dir')) continue;
      }
      if (kind === 'dir' && descend) {
        stack.push({
          path: childPath(task.path, name),
          rel: task.rel === '' ? name : task.rel + '/' + name,
          depth: childDepth,
          ignores,
          ancestors: task.ancestors,
        });
      }
      if (kind !== wantType) continue;
      if (matchesName !== undefined && !matchesName(name)) continue;
      if (this.needStat) {
        (toStat ??= []).push(name);
        (toStatKinds ??= []).push(kind);
      } else {
        stats.matched++;
        sink.entry({ path: childPath(task.path, name), kind });
      }
    }

    if (unresolved !== undefined) this.resolveAndVisit(task, unresolved, ignores, descend, stack);
    if (toStat !== undefined) this.statAndEmit(task, toStat, toStatKinds!, undefined);
  }

  /** Visits a directory through the source's record lister; false when it must take the general path. */
  private visitFormatted(task: DirTask, stack: DirTask[], lister: RecordLister): boolean {
    const { stats } = this;
    const spec = this.options.filter.spec;
    const descend = spec.maxDepth === undefined || task.depth + 1 < spec.maxDepth;
    let listing;
    try {
      listing = lister(task.path, spec.hidden, descend, this.query);
    } catch (e) {
      this.fail(task.path, e);
      return true;
    }
    if (listing === null) return false;
    stats.dirs++;
    stats.entries += listing.entries;
    stats.matched += listing.count;
    stats.bytesMatched += listing.bytes;
    for (const name of listing.subdirs) {
      const rel = task.rel === '' ? name : task.rel + '/' + name;
      stack.push({ path: childPath(task.path, name), rel, depth: task.depth + 1, ignores: task.ignores, ancestors: task.ancestors });
    }
    for (const { name, error } of listing.failures) this.fail(childPath(task.path, name), error);
    if (listing.count > 0) this.sink.records!(listing.records, listing.count, listing.bytes);
    return true;
  }

  /** Reads the ignore files present in this directory and stacks them on the inherited ones. */
  private withIgnoreFiles(task: DirTask, listing: DirListing): IgnoreSource[] {
    let present: Set<string> | undefined;
    const names = listing.names;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name.charCodeAt(0) === 46 && (IGNORE_FILE_NAMES as readonly string[]).includes(name)) (present ??= new Set()).add(name);
    }
    if (present === undefined) return task.ignores;
    let text = '';
    for (const fileName of IGNORE_FILE_NAMES) {
      if (!present.has(fileName)) continue;
      const content = this.source.readText(childPath(task.path, fileName));
      if (content !== undefined) text += content + '\n';
    }
    if (text === '') return task.ignores;
    return [...task.ignores, { dir: task.path, text, strip: task.rel === '' ? 0 : task.rel.length + 1, prefix: '' }];
  }

  /** Stats entries whose kind was unknown or that are followed symlinks, then treats them like the rest. */
  private resolveAndVisit(
    task: DirTask,
    unresolved: { name: string; kind: EntryKind | undefined }[],
    ignores: IgnoreSource[],
    descend: boolean,
    stack: DirTask[],
  ): void {
    const { filter } = this.options;
    const spec = filter.spec;
    const names = unresolved.map((e) => e.name);
    const results = this.source.statMany(task.path, names, spec.follow, this.options.identity === true);
    const toStat: string[] = [];
    const toKinds: EntryKind[] = [];
    const known: EntryStat[] = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const path = childPath(task.path, name);
      const r = results[i];
      let st: EntryStat;
      if (isSourceFailure(r)) {
        // A dangling symlink under --follow is reported as the symlink it is (as find -L does).
        if (spec.follow && unresolved[i].kind === 'symlink' && r.error.code === 'ENOENT') {
          st = { kind: 'symlink', size: 0, mtimeMs: 0, dev: 0, ino: 0 };
          const fallback = this.source.statMany(task.path, [name], false)[0];
          if (!isSourceFailure(fallback)) st = fallback;
        } else {
          this.fail(path, r.error);
          continue;
        }
      } else {
        st = r;
      }
      const rel = task.rel === '' ? name : task.rel + '/' + name;
      if (filter.isExcluded !== undefined && filter.isExcluded(name, rel)) continue;
      if (ignores.length > 0 && this.ignoreMatcher.isIgnored(ignores, rel, st.kind === 'dir')) continue;
      if (st.kind === 'dir' && descend) {
        const id = `${st.dev}:${st.ino}`;
        if (spec.follow && task.ancestors.includes(id)) {
          this.fail(path, { code: 'ELOOP', message: `file system loop: ${path} leads back to one of its ancestors` });
        } else {
          stack.push({
            path,
            rel,
            depth: task.depth + 1,
            ignores,
            ancestors: spec.follow ? [...task.ancestors, id] : task.ancestors,
          });
        }
      }
      if (st.kind !== filter.type) continue;
      if (filter.matchesName !== undefined && !filter.matchesName(name)) continue;
      toStat.push(name);
      toKinds.push(st.kind);
      known.push(st);
    }
    if (toStat.length > 0) this.statAndEmit(task, toStat, toKinds, known);
  }

  private statAndEmit(task: DirTask, names: string[], kinds: EntryKind[], known: EntryStat[] | undefined): void {
    const { filter } = this.options;
    const needStat = this.needStat;
    const identity = this.options.identity === true;
    const results = known ?? this.source.statMany(task.path, names, filter.spec.follow, identity);
    const { matchesStat, sizeFilesOnly } = filter;
    for (let i = 0; i < names.length; i++) {
      const path = childPath(task.path, names[i]);
      const r = results[i];
      if (isSourceFailure(r)) {
        this.fail(path, r.error);
        continue;
      }
      const kind = kinds[i];
      if (sizeFilesOnly && kind !== 'file') continue;
      if (matchesStat !== undefined && !matchesStat(r.size, r.mtimeMs)) continue;
      this.stats.matched++;
      if (kind === 'file') this.stats.bytesMatched += r.size;
      if (identity) {
        this.sink.entry({
          path,
          kind,
          size: r.size,
          mtimeMs: r.mtimeMs,
          dev: r.dev,
          ino: r.ino,
          mtimeSec: r.mtimeSec,
          mtimeNsec: r.mtimeNsec,
        });
      } else this.sink.entry(needStat ? { path, kind, size: r.size, mtimeMs: r.mtimeMs } : { path, kind });
    }
  }
}
