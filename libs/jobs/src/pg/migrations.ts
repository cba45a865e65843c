/** One step of the job database's schema; applied once, in version order, inside a transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema of the cluster's job database, oldest first. Kept as SQL text in the code, not as
 * files beside it, so the built apps (and the image) carry them with nothing to copy. Append a new
 * version; never edit one that has shipped.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'job records and per-item outcomes',
    sql: `
-- One row per job: the whole record as JSON, and the columns lists and the reconciler filter on.
CREATE TABLE jobs (
  id          text PRIMARY KEY,
  kind        text NOT NULL,
  state       text NOT NULL,
  rev         integer NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  record      jsonb NOT NULL
);
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_kind ON jobs (kind, id);

-- What a batch job did to each item, copied from the shard's journal when the shard ends. The key
-- (job, phase, shard, seq) makes a retried shard's copy replace its earlier one, never add to it.
CREATE TABLE job_items (
  job_id  text NOT NULL,
  phase   text NOT NULL,
  shard   text NOT NULL,
  seq     integer NOT NULL,
  action  text NOT NULL,
  source  text NOT NULL,
  target  text NOT NULL,
  size    bigint NOT NULL,
  state   text NOT NULL,
  code    text,
  reason  text,
  at      timestamptz NOT NULL,
  PRIMARY KEY (job_id, phase, shard, seq)
);
-- "Which job touched this path?" looks up either end of an action.
CREATE INDEX job_items_source ON job_items (source);
CREATE INDEX job_items_target ON job_items (target);
`,
  },
  {
    version: 2,
    name: 'the shared hash index',
    sql: `
-- Hashes of local files by the volume's id (FILER_VOLUMES: the same on every host, where device
-- numbers are not), inode, size and mtime (ns); one row per algorithm and scope (sample, full).
-- The key starts with (volume, ino, algo): a shard looks its files up by inode with = ANY, and a
-- save drops a file's older versions, so a changed file keeps no stale row.
CREATE TABLE file_hashes (
  volume     text NOT NULL,
  ino        bigint NOT NULL,
  algo       text NOT NULL,
  scope      text NOT NULL CHECK (scope IN ('sample', 'full')),
  size       bigint NOT NULL,
  mtime_s    bigint NOT NULL,
  mtime_ns   integer NOT NULL,
  hash       text NOT NULL,
  hashed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (volume, ino, algo, scope, size, mtime_s, mtime_ns)
);

-- Hashes of S3 objects by bucket, key, ETag, size and LastModified (ms, as listings give it).
CREATE TABLE object_hashes (
  bucket            text NOT NULL,
  key               text NOT NULL,
  algo              text NOT NULL,
  scope             text NOT NULL CHECK (scope IN ('sample', 'full')),
  etag              text NOT NULL,
  size              bigint NOT NULL,
  last_modified_ms  bigint NOT NULL,
  hash              text NOT NULL,
  hashed_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bucket, key, algo, scope, etag, size, last_modified_ms)
);
`,
  },
];
