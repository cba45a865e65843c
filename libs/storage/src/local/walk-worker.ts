import { parentPort, workerData } from 'node:worker_threads';
import { compileFilter, type FileEntry, type PathError } from '@filer/core';
import { DirWalker, donateHalf, emptyWalkStats, formatRecord, type DirTask } from '@filer/engine';
import { LocalSource } from './local-source.js';
import { nativeScan } from './native-scan.js';
import {
  CTRL_HUNGRY,
  CTRL_OUTSTANDING,
  CTRL_STOP,
  MAX_OUTSTANDING_CHUNKS,
  sourceFormatsRecords,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
} from './walk-protocol.js';

/** Output is handed to the writer in chunks of about this many characters. */
const CHUNK_CHARS = 32768;
const CHUNK_ENTRIES = 4096;

const init = workerData as WorkerInit;
const port = parentPort!;
const control = new Int32Array(init.control);
const output = init.output;
const stats = emptyWalkStats();
const stack: DirTask[] = [];

let text = '';
let count = 0;
let entries: FileEntry[] = [];
let errors: PathError[] = [];

const source = new LocalSource(init.native ? nativeScan : null);
const walker = new DirWalker(
  source,
  {
    filter: compileFilter(init.spec),
    statAll: init.statAll,
    identity: init.identity,
    ndjson: sourceFormatsRecords(output) ? source.ndjsonLister : undefined,
    records: output.kind === 'text' ? output : undefined,
  },
  output.kind === 'text'
    ? {
        entry: (e) => {
          text += formatRecord(e, output.format, output.nul);
          count++;
        },
        error: (e) => errors.push(e),
        records: (t, n) => {
          text += t;
          count += n;
        },
      }
    : { entry: (e) => entries.push(e), error: (e) => errors.push(e) },
  stats,
);

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port.postMessage(msg, transfer);
}

/** Waits while the writer is behind, then hands over what is buffered. */
function flush(): void {
  if (count === 0 && entries.length === 0 && errors.length === 0) return;
  let pending = Atomics.load(control, CTRL_OUTSTANDING);
  while (pending >= MAX_OUTSTANDING_CHUNKS && Atomics.load(control, CTRL_STOP) === 0) {
    Atomics.wait(control, CTRL_OUTSTANDING, pending, 100);
    pending = Atomics.load(control, CTRL_OUTSTANDING);
  }
  Atomics.add(control, CTRL_OUTSTANDING, 1);
  if (output.kind === 'text') {
    // Encoded here and transferred, not cloned: the writer thread only copies bytes to fd 1.
    const bytes = Buffer.from(text, 'utf8');
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Uint8Array.prototype.slice.call(bytes);
    post({ t: 'text', bytes: owned, count, errors, stats: { ...stats } }, [owned.buffer as ArrayBuffer]);
    text = '';
    count = 0;
  } else {
    post({ t: 'entries', entries, errors, stats: { ...stats } });
    entries = [];
  }
  errors = [];
}

function bufferFull(): boolean {
  return text.length >= CHUNK_CHARS || entries.length >= CHUNK_ENTRIES || errors.length >= CHUNK_ENTRIES;
}

/** Checked after every directory: flush, share work with idle threads, or stop. */
function shouldPause(): boolean {
  return bufferFull() || (stack.length > 1 && Atomics.load(control, CTRL_HUNGRY) > 0) || Atomics.load(control, CTRL_STOP) !== 0;
}

/** Takes one idle thread's request for work, so two busy threads never feed the same idle one. */
function claimHungryThread(): boolean {
  for (;;) {
    const hungry = Atomics.load(control, CTRL_HUNGRY);
    if (hungry <= 0) return false;
    if (Atomics.compareExchange(control, CTRL_HUNGRY, hungry, hungry - 1) === hungry) return true;
  }
}

function run(): void {
  while (stack.length > 0) {
    walker.run(stack, shouldPause);
    if (Atomics.load(control, CTRL_STOP) !== 0) return;
    if (bufferFull()) flush();
    if (stack.length > 1 && claimHungryThread()) {
      // The bottom of a depth-first stack holds the shallowest directories: the biggest subtrees.
      post({ t: 'donate', tasks: donateHalf(stack) });
    }
  }
  flush();
  goIdle();
}

/** Announces this thread as idle: first in shared memory, which busy walkers check after every directory. */
function goIdle(): void {
  Atomics.add(control, CTRL_HUNGRY, 1);
  post({ t: 'idle', errors: [], stats: { ...stats } });
}

// Up and ready: ask for work.
goIdle();

port.on('message', (msg: ToWorker) => {
  if (msg.t === 'work') {
    for (const task of msg.tasks) stack.push(task);
    run();
  }
});
