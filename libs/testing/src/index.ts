export * from './make-tree.js';
export * from './repo-paths.js';
export * from './run-process.js';
export * from './run-filer.js';
export * from './split-records.js';
export * from './file-fixtures.js';
export * from './free-port.js';
export * from './redis-server.js';
