import type { S3Client } from '@aws-sdk/client-s3';
import type { FileEntry } from '@filer/core';
import { formatRecord } from '@filer/engine';
import type { OpenShardWalker, ShardWalker } from '../shard-walker.js';
import type { WalkSource } from '../walk-source.js';
import { checkS3Roots } from './check-s3-roots.js';
import { leanListerFromEnv } from './lean-lister.js';
import type { ListedPage } from './list-xml.js';
import { s3ConfigFromEnv } from './s3-config.js';
import { PAGE_KEYS } from './s3-lister.js';
import { S3DupeFiles } from './s3-dupe-files.js';
import { s3FilterNotes, walkS3 } from './walk-s3.js';

/** Formatted text gathered before one onText call, as the threaded walk's chunks. */
const FLUSH_AT = 64 * 1024;

/** A shard walker whose module (and the AWS SDK it loads) is imported when a shard first uses it. */
function lazyShardWalker(client: () => Promise<S3Client>): OpenShardWalker {
  return (opts, sink, stats) => {
    let inner: Promise<ShardWalker> | undefined;
    const get = (): Promise<ShardWalker> =>
      (inner ??= Promise.all([import('./s3-shard-walker.js'), client()]).then(([m, c]) => m.s3ShardWalker(c)(opts, sink, stats)));
    return {
      splitVaries: true,
      seed: async (root) => (await get()).seed(root),
      walk: async (stack, shouldStop, skip) => (await get()).walk(stack, shouldStop, skip),
    };
  };
}

/**
 * S3 roots as a walk source: checked at once, then listed by walkS3 (16 prefixes at a time).
 * Entries are handed over in batches (those listed together: the batch is passed on once the
 * listing callback returns), text in 64 KiB chunks; totals arrive at the end. Thread counts do not
 * apply. Without a shared client, listings go through the lean lister when the environment allows
 * (leanListerFromEnv) and the AWS SDK is loaded only when something needs it (hashing, a shard
 * walk, a root that fails its check, or credentials the lean lister does not handle).
 */
export async function openS3Source(roots: readonly string[], shared?: S3Client): Promise<WalkSource> {
  const config = s3ConfigFromEnv();
  let made: Promise<S3Client> | undefined;
  let client: S3Client | undefined = shared;
  const getClient = (): Promise<S3Client> =>
    shared !== undefined ? Promise.resolve(shared) : (made ??= import('./s3-client.js').then((m) => (client = m.createS3Client(config))));
  const lean = shared === undefined ? leanListerFromEnv(config) : undefined;
  const destroy = (): void => {
    lean?.close?.();
    if (shared === undefined) client?.destroy();
  };
  const lister = lean ?? (await import('./s3-list-page.js')).sdkLister(await getClient());
  // A shared client is a worker's: its shards check the roots they seed, and the client outlives the source.
  // The check lists each root's first flat page: the walk starts from it (a --max-depth walk lists by levels and drops it).
  let firstPages: Map<string, ListedPage> | undefined;
  if (shared === undefined) {
    try {
      firstPages = await checkS3Roots(lister, roots, getClient, PAGE_KEYS);
    } catch (e) {
      destroy();
      throw e;
    }
  }
  return {
    kind: 's3',
    roots,
    // Objects have no inode to tie a cached hash to.
    cachesHashes: false,
    notes: s3FilterNotes,
    dupeFiles: () => {
      const list = new S3DupeFiles();
      return { files: list.files, add: (entries) => entries.forEach((e) => list.add(e)) };
    },
    // Contents are hashed, never ETags (see S3FileHasher).
    hasher: async (algorithm) => new (await import('./s3-file-hasher.js')).S3FileHasher(await getClient(), algorithm),
    shardWalker: lazyShardWalker(getClient),
    close: destroy,
    walk(opts) {
      let stop = false;
      let pending = '';
      let count = 0;
      let batch: FileEntry[] = [];
      const flush = (): void => {
        if (batch.length > 0) {
          const entries = batch;
          batch = [];
          if (!stop) opts.onEntries!(entries);
        }
        if (pending === '') return;
        const [text, n] = [pending, count];
        pending = '';
        count = 0;
        opts.onText!(text, n);
      };
      const output = opts.output;
      const onEntry =
        output.kind === 'text'
          ? (e: FileEntry): void => {
              if (stop) return;
              pending += formatRecord(e, output.format, output.nul);
              count++;
              if (pending.length >= FLUSH_AT) flush();
            }
          : (e: FileEntry): void => {
              if (stop) return;
              if (batch.length === 0) queueMicrotask(flush);
              batch.push(e);
            };
      const done = walkS3(lister, {
        roots,
        spec: opts.spec,
        shouldStop: () => stop,
        firstPages,
        onEntry,
        onError: opts.onError,
      }).then((stats) => {
        if (!stop) flush();
        opts.onStats?.(stats);
        return stats;
      });
      return { done, stop: () => void (stop = true) };
    },
  };
}
