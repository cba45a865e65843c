export * from './walk/dir-task.js';
export * from './walk/ignore-rules.js';
export * from './walk/walk-stats.js';
export * from './walk/walk-dirs.js';
export * from './walk/walk-tree-sync.js';
export * from './output/find-format.js';
export * from './output/record-writer.js';
export * from './output/sort-entries.js';
