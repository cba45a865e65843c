import type { Readable } from 'node:stream';

/** One stored object of the results: its key and the version its bytes are (an ETag). */
export interface ResultObject {
  key: string;
  etag: string;
}

/**
 * The few object operations the results need, keyed under one prefix (the port the S3 adapter,
 * `S3ResultObjects` in `@filer/storage/s3`, implements; kept here so the results store loads no SDK).
 */
export interface ResultObjects {
  /** `s3://bucket/prefix/`, for messages. */
  readonly location: string;
  /** Stores a local file's bytes under `key`, replacing any object there. */
  putFile(key: string, file: string): Promise<void>;
  /** Stores `body` under `key`, replacing any object there. */
  putBytes(key: string, body: Buffer): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  read(key: string): Promise<Readable | undefined>;
  /** Copies the object into a new local file; false when there is none. */
  download(key: string, file: string): Promise<boolean>;
  /** Objects whose keys start with `prefix`, in key order. */
  list(prefix: string): AsyncGenerator<ResultObject>;
  /** The next path segments under `prefix` (S3's common prefixes with delimiter `/`), without the slash. */
  children(prefix: string): Promise<string[]>;
  /** Removes every object under `prefix`. */
  removeAll(prefix: string): Promise<void>;
  /** Removes one object (nothing when it is missing). */
  remove(key: string): Promise<void>;
  /** Throws unless the bucket can be reached. */
  check(): Promise<void>;
}
