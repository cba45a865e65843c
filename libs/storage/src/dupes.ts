/** The dupes use case (`@filer/storage/dupes`): one duplicate search, its pipeline chosen here. Loads the hash cache's SQLite. */
export * from './dupes/run-dupes-job.js';
export * from './dupes/dir-other-entries.js';
export * from './dupes/dupe-dirs-on-disk.js';
export { DUPES_SPILL_AFTER } from './dupes/spilling-dupe-files.js';
