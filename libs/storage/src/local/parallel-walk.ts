import { workerScript } from './worker-script.js';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { compileFilter, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import { addWalkStats, DirWalker, donateHalf, emptyWalkStats, formatRecord, seedTask, type DirTask, type WalkStats } from '@filer/engine';
import { LocalSource } from './local-source.js';
import { nativeScan } from './native-scan.js';
import { ancestorIgnoreSources } from './ancestor-ignores.js';
import {
  CTRL_HUNGRY,
  CTRL_OUTSTANDING,
  CTRL_SLOTS,
  CTRL_STOP,
  type FromWorker,
  sourceFormatsRecords,
  type OutputMode,
  type ToWorker,
  type WorkerInit,
} from './walk-protocol.js';

export interface ParallelWalkOptions {
  roots: readonly string[];
  spec: FilterSpec;
  /** Stat every match (the output shows size and mtime). */
  statAll: boolean;
  /** Report dev, inode and exact mtime of every match (duplicate finding). */
  identity?: boolean;
  output: OutputMode;
  /** Extra walker threads beside the calling one; 0 walks on the calling thread only. Default: cores − 1. */
  threads?: number;
  /** Formatted records (output kind `text`), as text from the calling thread or UTF-8 from helpers. */
  onText?: (text: string | Uint8Array, count: number) => void;
  /** Entries (output kind `entries`). */
  onEntries?: (entries: FileEntry[]) => void;
  onError: (error: PathError) => void;
  /** Latest totals, whenever a thread reports. */
  onStats?: (stats: WalkStats) => void;
  /** Use the native scanner when it is built (default true); false forces node:fs. */
  native?: boolean;
  /** How long the calling thread walks alone before starting helpers (default 15 ms). */
  spawnAfterMs?: number;
}

/** A running walk: `done` resolves with exact totals; `stop()` ends it early (limit reached, EPIPE). */
export interface WalkHandle {
  done: Promise<WalkStats>;
  stop(): void;
}

/** One helper thread per core beyond the calling thread, which walks too. */
export function defaultWalkThreads(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, 7));
}

/** The calling thread walks for this long before helper threads are worth starting. */
const SPAWN_AFTER_MS = 15;
/** The calling thread yields to its event loop this often, to serve helper threads' messages. */
const SLICE_MS = 4;
const MAIN_CHUNK_CHARS = 32768;
const MAIN_CHUNK_ENTRIES = 4096;

/**
 * Walks local roots on the calling thread and, once the walk proves big enough to pay for them,
 * on helper threads. Each walker works depth-first on its own stack and gives the shallow half
 * of it away when another walker is idle (work sharing), so every core stays busy on lopsided
 * trees. Walking and output never mix: helpers send formatted chunks and the caller's single
 * writer prints them; a shared counter makes helpers wait when the writer falls behind, so
 * memory stays bounded however large the tree.
 */
export function startParallelWalk(opts: ParallelWalkOptions): WalkHandle {
  return new ParallelWalk(opts, opts.threads ?? defaultWalkThreads()).handle;
}

class ParallelWalk {
  readonly handle: WalkHandle;
  private readonly controlBuf = new SharedArrayBuffer(CTRL_SLOTS * 4);
  private readonly control = new Int32Array(this.controlBuf);
  private readonly source: LocalSource;
  private readonly mainStats = emptyWalkStats();
  private readonly mainWalker: DirWalker;
  private readonly mainStack: DirTask[] = [];
  private readonly queue: DirTask[] = [];
  private readonly workers: Worker[] = [];
  private readonly workerStats: WalkStats[] = [];
  /** Helpers that are up and waiting for work. */
  private readonly idle = new Set<number>();
  /** Helpers that were given work and have not reported idle since. */
  private readonly busy = new Set<number>();
  private mainIdle = false;
  private mainScheduled = false;
  private finished = false;
  private spawned = false;
  private readonly started = performance.now();
  private text = '';
  private count = 0;
  private entries: FileEntry[] = [];
  private resolveDone!: (s: WalkStats) => void;
  private rejectDone!: (e: unknown) => void;

  constructor(
    private readonly opts: ParallelWalkOptions,
    private readonly threadCount: number,
  ) {
    const out = opts.output;
    this.source = new LocalSource(opts.native === false ? null : nativeScan);
    const ndjson = sourceFormatsRecords(out) ? this.source.ndjsonLister : undefined;
    this.mainWalker = new DirWalker(
      this.source,
      {
        filter: compileFilter(opts.spec),
        statAll: opts.statAll,
        identity: opts.identity,
        ndjson,
        records: out.kind === 'text' ? out : undefined,
      },
      {
        entry:
          out.kind === 'text'
            ? (e) => {
                this.text += formatRecord(e, out.format, out.nul);
                this.count++;
              }
            : (e) => this.entries.push(e),
        error: opts.onError,
        records: (text, n) => {
          this.text += text;
          this.count += n;
        },
      },
      this.mainStats,
    );
    const done = new Promise<WalkStats>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.handle = { done, stop: () => this.finish() };
    for (const root of opts.roots) {
      const task = seedTask(this.source, root, opts.spec.follow);
      if (opts.spec.ignoreFiles) task.ignores = ancestorIgnoreSources(root);
      this.mainStack.push(task);
    }
    this.mainStack.reverse(); // roots are walked in the order given
    this.scheduleMain();
  }

  private totals(): WalkStats {
    return this.workerStats.reduce((acc, s) => addWalkStats(acc, s), addWalkStats(emptyWalkStats(), this.mainStats));
  }

  private scheduleMain(): void {
    if (this.mainScheduled || this.finished) return;
    this.mainScheduled = true;
    setImmediate(() => {
      this.mainScheduled = false;
      this.runMainSlice();
    });
  }

  /** One time slice of walking on the calling thread, then back to the event loop. */
  private runMainSlice(): void {
    if (this.finished) return;
    const deadline = performance.now() + SLICE_MS;
    let n = 0;
    try {
      this.mainWalker.run(
        this.mainStack,
        () =>
          this.text.length >= MAIN_CHUNK_CHARS ||
          this.entries.length >= MAIN_CHUNK_ENTRIES ||
          (this.mainStack.length > 1 && Atomics.load(this.control, CTRL_HUNGRY) > 0) ||
          ((++n & 15) === 0 && performance.now() > deadline),
      );
    } catch (e) {
      this.finish(e);
      return;
    }
    this.flushMain();
    if (this.finished) return;
    if (
      !this.spawned &&
      this.threadCount > 0 &&
      this.mainStack.length > 0 &&
      performance.now() - this.started > (this.opts.spawnAfterMs ?? SPAWN_AFTER_MS)
    ) {
      this.spawnHelpers();
    }
    if (this.mainStack.length > 1 && this.claimHungry()) {
      this.giveToIdle(donateHalf(this.mainStack));
    }
    if (this.mainStack.length === 0 && this.queue.length > 0) this.mainStack.push(...this.queue.splice(0));
    if (this.mainStack.length > 0) {
      this.scheduleMain();
    } else {
      this.mainIdle = true;
      Atomics.add(this.control, CTRL_HUNGRY, 1);
      this.maybeFinish();
    }
  }

  private flushMain(): void {
    if (this.count > 0) this.opts.onText?.(this.text, this.count);
    if (this.entries.length > 0) this.opts.onEntries?.(this.entries);
    this.text = '';
    this.count = 0;
    this.entries = [];
    this.opts.onStats?.(this.totals());
  }

  private claimHungry(): boolean {
    const c = this.control;
    for (;;) {
      const hungry = Atomics.load(c, CTRL_HUNGRY);
      if (hungry <= 0) return false;
      if (Atomics.compareExchange(c, CTRL_HUNGRY, hungry, hungry - 1) === hungry) return true;
    }
  }

  /** Hands donated tasks to one idle walker (a helper, or the calling thread), else queues them. */
  private giveToIdle(tasks: DirTask[]): void {
    const [i] = this.idle;
    if (i !== undefined) {
      this.idle.delete(i);
      this.busy.add(i);
      const msg: ToWorker = { t: 'work', tasks };
      this.workers[i].postMessage(msg);
    } else if (this.mainIdle) {
      this.mainIdle = false;
      this.mainStack.push(...tasks);
      this.scheduleMain();
    } else {
      this.queue.push(...tasks);
    }
  }

  private spawnHelpers(): void {
    this.spawned = true;
    const init: WorkerInit = {
      spec: this.opts.spec,
      statAll: this.opts.statAll,
      identity: this.opts.identity === true,
      output: this.opts.output,
      control: this.controlBuf,
      native: this.opts.native !== false,
    };
    const url = workerScript('walk-worker.js', import.meta.url);
    for (let i = 0; i < this.threadCount; i++) {
      const w = new Worker(url, { workerData: init });
      this.workerStats.push(emptyWalkStats());
      w.on('message', (m: FromWorker) => this.onMessage(i, m));
      w.on('error', (e) => this.finish(e));
      w.on('exit', (code) => {
        if (!this.finished && code !== 0) this.finish(new Error(`walker thread ${i} exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  private onMessage(i: number, msg: FromWorker): void {
    if (this.finished) return;
    const opts = this.opts;
    switch (msg.t) {
      case 'text':
      case 'entries':
        this.workerStats[i] = msg.stats;
        for (const e of msg.errors) opts.onError(e);
        if (msg.t === 'text') opts.onText?.(msg.bytes, msg.count);
        else opts.onEntries?.(msg.entries);
        Atomics.sub(this.control, CTRL_OUTSTANDING, 1);
        Atomics.notify(this.control, CTRL_OUTSTANDING);
        opts.onStats?.(this.totals());
        return;
      case 'donate':
        this.giveToIdle(msg.tasks);
        return;
      case 'idle':
        // Sent once a helper is up, and each time it runs out of work.
        this.workerStats[i] = msg.stats;
        this.busy.delete(i);
        if (this.queue.length > 0) {
          // Queued tasks were donated against an earlier claim: hand them over as they are.
          this.busy.add(i);
          this.workers[i].postMessage({ t: 'work', tasks: this.queue.splice(0, Math.ceil(this.queue.length / 2)) } satisfies ToWorker);
          return;
        }
        this.idle.add(i); // the helper counted itself in CTRL_HUNGRY before saying so
        this.maybeFinish();
        return;
    }
  }

  /** Done when the calling thread is idle, nothing is queued and no helper holds work. */
  private maybeFinish(): void {
    if (this.mainIdle && this.queue.length === 0 && this.busy.size === 0) this.finish();
  }

  private finish(err?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    Atomics.store(this.control, CTRL_STOP, 1);
    Atomics.notify(this.control, CTRL_OUTSTANDING);
    for (const w of this.workers) void w.terminate();
    if (err !== undefined) this.rejectDone(err);
    else {
      this.flushMain();
      this.resolveDone(this.totals());
    }
  }
}
