/** The manifest use case (`@filer/storage/manifest`): list, sort, hash with the source's hasher, write a new file or object. */
export * from './manifest/run-manifest-job.js';
export * from './manifest/hash-manifest-files.js';
export * from './manifest/manifest-out.js';
