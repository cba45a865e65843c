type S3Module = typeof import('@filer/storage/s3');

export interface S3Access {
  s3: S3Module;
  client: ReturnType<S3Module['createS3Client']>;
}

let access: Promise<S3Access> | undefined;

async function open(): Promise<S3Access> {
  const s3 = await import('@filer/storage/s3');
  return { s3, client: s3.createS3Client(s3.s3ConfigFromEnv()) };
}

/**
 * The worker's S3 adapters and one client, loaded on the first shard that touches `s3://` (a
 * cluster over local disks never loads the AWS SDK). Settings come from FILER_S3_* and the SDK's
 * credential chain, as in the CLI; a bad value fails that shard with a message naming it.
 */
export function s3Access(): Promise<S3Access> {
  access ??= open().catch((e: unknown) => {
    access = undefined;
    throw e;
  });
  return access;
}

/** The worker's one S3 client, for openSource / openSink, which ask for it only when a path is on S3. */
export const sharedS3Client = async (): Promise<S3Access['client']> => (await s3Access()).client;
