/** Planning of batch operations on local files (`@filer/storage/batch`): shared by the CLI and the batch workers. */
export * from './batch/plan-local-moves.js';
export * from './batch/name-files.js';
export * from './batch/batch-requests.js';
export * from './batch/stored-transfer-plan.js';
export * from './batch/stored-rename-plan.js';
