/**
 * S3 adapters (`@filer/storage/s3`): the only entry that loads the AWS SDK, so commands over
 * local disks never pay for it.
 */
export * from './s3/s3-uri.js';
export * from './s3/s3-config.js';
export * from './s3/s3-client.js';
export * from './s3/s3-errors.js';
export * from './s3/s3-source.js';
export * from './s3/check-s3-roots.js';
export * from './s3/walk-s3.js';
export * from './s3/s3-walk-source.js';
export * from './s3/s3-flat-walk.js';
export * from './s3/s3-lister.js';
export * from './s3/s3-list-page.js';
export * from './s3/lean-lister.js';
export * from './s3/list-xml.js';
export * from './s3/s3-etag.js';
export * from './s3/s3-objects.js';
export * from './s3/s3-file-ops.js';
export * from './s3/list-s3-prefix.js';
export * from './s3/s3-dupe-files.js';
export * from './s3/s3-file-hasher.js';
export * from './s3/s3-naming.js';
export * from './s3/s3-result-objects.js';
export * from './s3/s3-dedupe-ops.js';
export * from './s3/describe-s3-dupes.js';
