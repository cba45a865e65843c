import { workerScript } from './worker-script.js';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import {
  hashBatches,
  sampleIsWhole,
  type DupeFile,
  type FileHasher,
  type HashAlgorithm,
  type HashOutcome,
  type HashScope,
} from '@filer/engine';
import { packFiles, type FromHashWorker, type HashWorkerInit, type ToHashWorker } from './hash-protocol.js';
import { EMPTY_DIGESTS } from './streaming-hash.js';
import { nativeCheck } from './hash-file.js';
import { nativeScan, type NativeScan } from './native-scan.js';
import { SAMPLE_BLOCK } from '@filer/engine/sample-layout';

export { EMPTY_DIGESTS } from './streaming-hash.js';

/**
 * A batch is cut at this many files or this many bytes to read, whichever comes first. Samples are
 * small reads, so their batches are larger: fewer round trips to the threads.
 */
const BATCH_FILES: Record<HashScope, number> = { sample: 1024, full: 256 };
const BATCH_BYTES = 32 << 20;

/** Files per native batch; two batches are in flight at once, so the threads never wait on this one. */
const NATIVE_BATCH_FILES: Record<HashScope, number> = { sample: 4096, full: 512 };

/**
 * Hashes local files off the JS thread, one thread per core. xxh128 with the native scanner: each
 * batch is one call that hashes on threads of its own (no worker threads to start, nothing sent per
 * file). Otherwise on worker threads: batches of files go to whichever thread is free, results come
 * back in order. File contents never reach this thread; only digests do.
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
    /** Use the native addon when it is built: in-process xxh128, sample reads for sha256 (false: node:fs and hash-wasm on worker threads). */
    private readonly native = true,
  ) {}

  /** The native scanner that hashes in-process (xxh128, addon built), or null when worker threads do. */
  private get inProcess(): NativeScan | null {
    return this.native && this.algorithm === 'xxh128' ? nativeScan : null;
  }

  /** The digest of zero bytes, reported for groups of empty files (a test checks these against the hashers). */
  emptyHash(): string {
    return EMPTY_DIGESTS[this.algorithm];
  }

  /**
   * Starts the threads now, so their start-up (tens of milliseconds each) overlaps other work
   * such as the walk; `hash` starts them otherwise.
   */
  start(): void {
    if (this.workers.length > 0 || this.inProcess !== null) return;
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
    const native = this.inProcess;
    if (native !== null) return this.hashNatively(native, files, scope);
    this.start();
    await Promise.all(this.ready);
    const bytesOf = scope === 'sample' ? (f: DupeFile) => Math.min(f.size, 8192) : (f: DupeFile) => f.size;
    const batches = hashBatches(files, bytesOf, BATCH_FILES[scope], BATCH_BYTES);

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

  private async hashNatively(native: NativeScan, files: readonly DupeFile[], scope: HashScope): Promise<HashOutcome[]> {
    const out = new Array<HashOutcome>(files.length);
    const size = NATIVE_BATCH_FILES[scope];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < files.length) {
        const from = next;
        next = Math.min(files.length, from + size);
        const batch = files.slice(from, next);
        const [r, d] = await native.hashBatch(
          batch.map((f) => f.path).join('\0'),
          batch.length,
          Float64Array.from(batch, (f) => f.size),
          scope === 'sample' ? SAMPLE_BLOCK : 0,
          this.follow,
          this.threads,
        );
        const digests = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
        for (let i = 0; i < batch.length; i++) {
          const f = batch[i];
          const error = nativeCheck(r, i, f);
          if (error !== undefined) out[from + i] = { error };
          else {
            this.bytesRead += r[i * 7 + 6];
            out[from + i] = { hash: digests.toString('hex', i * 16, i * 16 + 16), whole: scope === 'full' || sampleIsWhole(f.size) };
          }
        }
        this.filesHashed += batch.length;
      }
    };
    await Promise.all([lane(), lane()]);
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
