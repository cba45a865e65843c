/** The CLI's SQLite state and the hash cache (`@filer/storage/state`): loaded only by commands that use them. */
export * from './state/state-location.js';
export * from './state/state-db.js';
export * from './state/sqlite-hash-cache.js';
export * from './state/sqlite-journal.js';
export * from './state/cache-key.js';
export * from './state/plan-store.js';
export * from './state/dedupe-scratch.js';
