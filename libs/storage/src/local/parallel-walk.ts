import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { compileFilter, type FileEntry, type FilterSpec, type PathError } from '@filer/core';
import { addWalkStats, DirWalker, emptyWalkStats, formatRecord, seedTask, type DirTask, type WalkStats } from '@filer/engine';
import { LocalSource } from './local-source.js';
import {
  CTRL_HUNGRY,
  CTRL_OUTSTANDING,
  CTRL_SLOTS,
  CTRL_STOP,
  type FromWorker,
  type OutputMode,
  type ToWorker,
  type WorkerInit,
} from './walk-protocol.js';

export interface ParallelWalkOptions {
  roots: readonly string[];
  spec: FilterSpec;
  /** Stat every match (the output shows size and mtime). */
  statAll: boolean;
  output: OutputMode;
  /** Walker threads; 0 walks on the calling thread. Default: one per core. */
  threads?: number;
  /** Formatted records (output kind `text`). */
  onText?: (text: string, count: number) => void;
  /** Entries (output kind `entries`). */
  onEntries?: (entries: FileEntry[]) => void;
  onError: (error: PathError) => void;
  /** Latest totals, whenever a thread reports. */
  onStats?: (stats: WalkStats) => void;
}

/** A running walk: `done` resolves with exact totals; `stop()` ends it early (limit reached, EPIPE). */
export interface WalkHandle {
  done: Promise<WalkStats>;
  stop(): void;
}

export function defaultWalkThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/**
 * Walks local roots on worker threads. Each thread walks depth-first on its own stack and gives
 * the shallow half of it to the coordinator when another thread is idle (work sharing), so both
 * cores stay busy on lopsided trees. Walking and output never mix: threads send formatted
 * chunks and the caller's single writer prints them; a shared counter makes threads wait when
 * the writer falls behind, so memory stays bounded however large the tree.
 */
export function startParallelWalk(opts: ParallelWalkOptions): WalkHandle {
  const threads = opts.threads ?? defaultWalkThreads();
  return threads === 0 ? walkInline(opts) : walkOnThreads(opts, threads);
}

function walkInline(opts: ParallelWalkOptions): WalkHandle {
  let stopped = false;
  const source = new LocalSource();
  const stats = emptyWalkStats();
  const out = opts.output;
  let text = '';
  let count = 0;
  let entries: FileEntry[] = [];
  const flush = (): void => {
    if (count > 0) opts.onText?.(text, count);
    if (entries.length > 0) opts.onEntries?.(entries);
    text = '';
    count = 0;
    entries = [];
    opts.onStats?.(stats);
  };
  const walker = new DirWalker(
    source,
    { filter: compileFilter(opts.spec), statAll: opts.statAll },
    {
      entry: (e) => {
        if (out.kind === 'text') {
          text += formatRecord(e, out.format, out.nul);
          count++;
        } else entries.push(e);
      },
      error: opts.onError,
    },
    stats,
  );
  const done = (async () => {
    for (const root of opts.roots) {
      const stack = [seedTask(source, root, opts.spec.follow)];
      while (stack.length > 0 && !stopped) {
        walker.run(stack, () => text.length > 65536 || entries.length > 4096);
        flush();
        // Let a stop() from a callback or a signal take effect between chunks.
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    flush();
    return stats;
  })();
  return { done, stop: () => (stopped = true) };
}

function walkOnThreads(opts: ParallelWalkOptions, threadCount: number): WalkHandle {
  const controlBuf = new SharedArrayBuffer(CTRL_SLOTS * 4);
  const control = new Int32Array(controlBuf);
  const init: WorkerInit = { spec: opts.spec, statAll: opts.statAll, output: opts.output, control: controlBuf };
  const workerUrl = new URL('./walk-worker.js', import.meta.url);
  const source = new LocalSource();
  const queue: DirTask[] = opts.roots.map((r) => seedTask(source, r, opts.spec.follow));
  const workers: Worker[] = [];
  const latest: WalkStats[] = [];
  const idle = new Set<number>();
  let finished = false;

  let resolveDone!: (s: WalkStats) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<WalkStats>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });

  const totals = (): WalkStats => latest.reduce((acc, s) => addWalkStats(acc, s), emptyWalkStats());
  const send = (i: number, tasks: DirTask[]): void => {
    const msg: ToWorker = { t: 'work', tasks };
    workers[i].postMessage(msg);
  };
  const finish = (err?: unknown): void => {
    if (finished) return;
    finished = true;
    Atomics.store(control, CTRL_STOP, 1);
    Atomics.notify(control, CTRL_OUTSTANDING);
    for (const w of workers) void w.terminate();
    if (err !== undefined) rejectDone(err);
    else resolveDone(totals());
  };
  /** Gives queued tasks to one idle thread: each donation answers one idle thread's claim. */
  const dispatch = (): void => {
    if (queue.length === 0 || idle.size === 0) return;
    const [i] = idle;
    idle.delete(i);
    send(i, queue.splice(0));
  };
  const onMessage = (i: number, msg: FromWorker): void => {
    if (finished) return;
    switch (msg.t) {
      case 'text':
      case 'entries':
        latest[i] = msg.stats;
        for (const e of msg.errors) opts.onError(e);
        if (msg.t === 'text') opts.onText?.(msg.text, msg.count);
        else opts.onEntries?.(msg.entries);
        Atomics.sub(control, CTRL_OUTSTANDING, 1);
        Atomics.notify(control, CTRL_OUTSTANDING);
        opts.onStats?.(totals());
        return;
      case 'donate':
        queue.push(...msg.tasks);
        dispatch();
        return;
      case 'idle':
        latest[i] = msg.stats;
        for (const e of msg.errors) opts.onError(e);
        if (queue.length > 0) {
          send(i, queue.splice(0, Math.max(1, Math.ceil(queue.length / threadCount))));
          return;
        }
        idle.add(i);
        Atomics.add(control, CTRL_HUNGRY, 1);
        if (idle.size === threadCount) finish();
        return;
    }
  };

  for (let i = 0; i < threadCount; i++) {
    const w = new Worker(workerUrl, { workerData: init });
    latest.push(emptyWalkStats());
    w.on('message', (m: FromWorker) => onMessage(i, m));
    w.on('error', (e) => finish(e));
    w.on('exit', (code) => {
      if (!finished && code !== 0) finish(new Error(`walker thread ${i} exited with code ${code}`));
    });
    workers.push(w);
  }
  // Roots go to the first thread; the rest ask for work at once and are fed by donations.
  send(0, queue.splice(0));
  for (let i = 1; i < threadCount; i++) {
    idle.add(i);
    Atomics.add(control, CTRL_HUNGRY, 1);
  }
  return { done, stop: () => finish() };
}
