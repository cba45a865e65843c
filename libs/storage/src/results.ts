/**
 * The results volume of the cluster (`@filer/storage/results`): part files written whole and renamed
 * into place, and records mirrored durably. Shared by API replicas and workers through one mount.
 */
export * from './results/results-store.js';
export * from './results/part-writer.js';
export * from './results/part-bytes.js';
export * from './results/record-files.js';
