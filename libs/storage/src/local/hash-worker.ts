import { parentPort, workerData } from 'node:worker_threads';
import { createFileHashReader } from './hash-file.js';
import { nativeScan } from './native-scan.js';
import { unpackFiles, type FromHashWorker, type HashWorkerInit, type ToHashWorker } from './hash-protocol.js';
import type { PathError } from '@filer/core';

const init = workerData as HashWorkerInit;
const reader = await createFileHashReader(init.algorithm, init.follow, init.native ? nativeScan : null);
const port = parentPort!;

port.on('message', (msg: ToHashWorker) => {
  const before = reader.bytesRead;
  const outcomes = reader.hashMany(unpackFiles(msg.paths, msg.meta), msg.scope);
  const hashes = new Array<string>(outcomes.length);
  const errors: [number, PathError][] = [];
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if ('error' in o) {
      hashes[i] = '';
      errors.push([i, o.error]);
    } else hashes[i] = o.hash;
  }
  const reply: FromHashWorker = { batch: msg.batch, hashes: hashes.join('\n'), errors, bytesRead: reader.bytesRead - before };
  port.postMessage(reply);
});
port.postMessage({ ready: true });
