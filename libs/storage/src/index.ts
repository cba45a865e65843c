export * from './local/local-source.js';
export * from './local/check-roots.js';
export * from './local/parallel-walk.js';
export type { OutputMode } from './local/walk-protocol.js';
export * from './local/ancestor-ignores.js';
export * from './local/local-file-ops.js';
export * from './local/case-probe.js';
export * from './local/allowed-roots.js';
export { isS3Uri, parseS3Uri, formatS3Uri, type S3Location } from './s3/s3-uri.js';
