/**
 * The results of the cluster (`@filer/storage/results`): a port (`ResultsStore`) with two adapters —
 * a directory every API replica and worker mounts, or objects under an S3 prefix — for result
 * parts (made visible whole), apply journals and the job records' durable copies.
 */
export * from './results/results-store.js';
export * from './results/dir-results-store.js';
export * from './results/object-results-store.js';
export * from './results/result-objects.js';
export * from './results/part-writer.js';
export * from './results/part-bytes.js';
export * from './results/record-files.js';
