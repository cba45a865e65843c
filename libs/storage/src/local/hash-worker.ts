import { parentPort, workerData } from 'node:worker_threads';
import { createStreamingHash, FileHashReader } from './hash-file.js';
import { nativeScan } from './native-scan.js';
import type { FromHashWorker, HashWorkerInit, ToHashWorker } from './hash-protocol.js';

const init = workerData as HashWorkerInit;
const reader = new FileHashReader(await createStreamingHash(init.algorithm), init.follow, init.native ? nativeScan : null);
const port = parentPort!;

port.on('message', (msg: ToHashWorker) => {
  const before = reader.bytesRead;
  const outcomes = reader.hashMany(msg.files, msg.scope);
  port.postMessage({ batch: msg.batch, outcomes, bytesRead: reader.bytesRead - before } satisfies FromHashWorker);
});
port.postMessage({ ready: true });
