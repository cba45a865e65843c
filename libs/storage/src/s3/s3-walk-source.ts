import type { S3Client } from '@aws-sdk/client-s3';
import type { FileEntry } from '@filer/core';
import { formatRecord } from '@filer/engine';
import type { WalkSource } from '../walk-source.js';
import { checkS3Roots } from './check-s3-roots.js';
import { createS3Client } from './s3-client.js';
import { s3ConfigFromEnv } from './s3-config.js';
import { S3DupeFiles } from './s3-dupe-files.js';
import { S3FileHasher } from './s3-file-hasher.js';
import { s3ShardWalker } from './s3-shard-walker.js';
import { s3FilterNotes, walkS3 } from './walk-s3.js';

/** Formatted text gathered before one onText call, as the threaded walk's chunks. */
const FLUSH_AT = 64 * 1024;

/**
 * S3 roots as a walk source: checked at once, then listed by walkS3 (16 prefixes at a time).
 * Entries are handed over in batches (those listed together: the batch is passed on once the
 * listing callback returns), text in 64 KiB chunks; totals arrive at the end. Thread counts do not
 * apply.
 */
export async function openS3Source(roots: readonly string[], shared?: S3Client): Promise<WalkSource> {
  const client = shared ?? createS3Client(s3ConfigFromEnv());
  // A shared client is a worker's: its shards check the roots they seed, and the client outlives the source.
  if (shared === undefined) {
    try {
      await checkS3Roots(client, roots);
    } catch (e) {
      client.destroy();
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
    hasher: (algorithm) => Promise.resolve(new S3FileHasher(client, algorithm)),
    shardWalker: s3ShardWalker(client),
    close: () => {
      if (shared === undefined) client.destroy();
    },
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
      const done = walkS3(client, {
        roots,
        spec: opts.spec,
        shouldStop: () => stop,
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
