import { workerScript } from './worker-script.js';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { sampleIsWhole, type DupeFile, type FileHasher, type HashAlgorithm, type HashOutcome, type HashScope } from '@filer/engine';
import { packFiles, type FromHashWorker, type HashWorkerInit, type ToHashWorker } from './hash-protocol.js';
import { EMPTY_DIGESTS } from './streaming-hash.js';

export { EMPTY_DIGESTS } from './streaming-hash.js';

/**
 * A batch is cut at this many files or this many bytes to read, whichever comes first. Samples are
 * small reads, so their batches are larger: fewer round trips to the threads.
 */
const BATCH_FILES: Record<HashScope, number> = { sample: 1024, full: 256 };
const BATCH_BYTES = 32 << 20;

/**
 * Hashes local files on worker threads, one per core: batches of files go to whichever thread is
 * free, results come back in order. File contents never leave the threads; only digests do.
 */
export class LocalFileHasher implements FileHasher {
  bytesRead = 0;
  /** Files hashed so far, for progress. */
  filesHashed = 0;
  private readonly workers: Worker[] = [];
  private readonly ready: Promise<void>[] = [];
  private nextBatch = 0;

  constructor(
    readonly algorithm: HashAlgorithm,
    private readonly threads = Math.max(1, availableParallelism()),
    /** Paths may be symlinks to the files the walk recorded (-L). */
    private readonly follow = false,
    /** Use the native scanner for sample reads when it is built (false forces node:fs). */
    private readonly native = true,
  ) {}

  /** The digest of zero bytes, reported for groups of empty files (a test checks these against the hashers). */
  emptyHash(): string {
    return EMPTY_DIGESTS[this.algorithm];
  }

  /**
   * Starts the threads now, so their start-up (tens of milliseconds each) overlaps other work
   * such as the walk; `hash` starts them otherwise.
   */
  start(): void {
    if (this.workers.length > 0) return;
    const url = workerScript('hash-worker.js', import.meta.url);
    for (let i = 0; i < this.threads; i++) {
      const w = new Worker(url, {
        workerData: { algorithm: this.algorithm, follow: this.follow, native: this.native } satisfies HashWorkerInit,
      });
      const ready = new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      ready.catch(() => undefined); // awaited by hash(); started early, a failure must not count as unhandled
      this.ready.push(ready);
      this.workers.push(w);
    }
  }

  async hash(files: readonly DupeFile[], scope: HashScope): Promise<HashOutcome[]> {
    if (files.length === 0) return [];
    this.start();
    await Promise.all(this.ready);
    const batches: { start: number; files: DupeFile[] }[] = [];
    let current: DupeFile[] = [];
    let bytes = 0;
    let start = 0;
    files.forEach((f, i) => {
      if (current.length === 0) start = i;
      current.push(f);
      bytes += scope === 'sample' ? Math.min(f.size, 8192) : f.size;
      if (current.length >= BATCH_FILES[scope] || bytes >= BATCH_BYTES) {
        batches.push({ start, files: current });
        current = [];
        bytes = 0;
      }
    });
    if (current.length > 0) batches.push({ start, files: current });

    const out = new Array<HashOutcome>(files.length);
    let next = 0;
    await Promise.all(
      this.workers.map(async (w) => {
        while (next < batches.length) {
          const b = batches[next++];
          const reply = await this.run(w, b.files, scope);
          const hashes = reply.hashes.split('\n');
          for (let k = 0; k < b.files.length; k++) {
            // A sample covers the whole file when the file is small enough; a full hash always does.
            out[b.start + k] = { hash: hashes[k], whole: scope === 'full' || sampleIsWhole(b.files[k].size) };
          }
          for (const [k, error] of reply.errors) out[b.start + k] = { error };
          this.bytesRead += reply.bytesRead;
          this.filesHashed += b.files.length;
        }
      }),
    );
    return out;
  }

  private run(w: Worker, files: DupeFile[], scope: HashScope): Promise<FromHashWorker> {
    const batch = this.nextBatch++;
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromHashWorker): void => {
        if (m.batch !== batch) return;
        w.off('message', onMessage);
        w.off('error', reject);
        resolve(m);
      };
      w.on('message', onMessage);
      w.once('error', reject);
      const { paths, meta } = packFiles(files);
      w.postMessage({ batch, paths, meta, scope } satisfies ToHashWorker, [meta.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
