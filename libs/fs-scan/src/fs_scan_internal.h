// What the addon's modules share (internal: the JS API is index.d.ts): N-API helpers, a growable
// byte buffer, the hashing threads, the hash cache's row format, a tree scan's result and the
// scanDupes handle, and the N-API functions fs_scan.c registers.
#ifndef FILER_FS_SCAN_INTERNAL_H
#define FILER_FS_SCAN_INTERNAL_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dupe_session.h"

// A dedupe job's quarantine directory (libs/core's QUARANTINE_NAME): every walk skips it, --hidden too.
#define FILER_QUARANTINE_NAME ".filer-quarantine"

// --- N-API helpers (napi_util.c) ---------------------------------------------------------------

const char *errno_name(int e);
// An Error with a `code` (ENOMEM, EINVAL…) for a failure that no system call reported.
napi_value code_error(napi_env env, const char *code, const char *msg);
napi_value throw_code(napi_env env, const char *code, const char *msg);
// The ENOMEM Error of function `fn` (or whatever a failed N-API call left pending); returns NULL.
napi_value throw_nomem(napi_env env, const char *fn);
void settle_nomem(napi_env env, napi_deferred deferred, const char *fn);
bool new_buffer(napi_env env, size_t len, void **data, napi_value *ab);
bool new_typed(napi_env env, napi_typedarray_type type, size_t n, size_t size, const void *src, napi_value *out);
// An Error for errno `e` with node:fs's `code` and `errno` properties and the given message.
napi_value errno_error(napi_env env, int e, const char *msg);
napi_value throw_errno(napi_env env, int e, const char *syscall, const char *path);
napi_value js_tuple(napi_env env, size_t n, const napi_value *values);
char *get_string(napi_env env, napi_value v, size_t *len_out);
const char *next_name(const char **p, const char *end, size_t *len);
size_t size_of(double v);
napi_value queue_promise(napi_env env, const char *name, napi_async_execute_callback execute,
                         napi_async_complete_callback complete, void *data, napi_async_work *work, napi_deferred *deferred);

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

// Appends n bytes: 0, or -1 out of memory.
int buf_put(buf_t *b, const char *s, size_t n);

// --- hashing threads (hashing.c) ---------------------------------------------------------------

// Per file read or hashed: [errno (0 ok, -1 short read), size, dev, ino, mtimeSec, mtimeNsec, bytes].
#define SAMPLE_FIELDS 7

// Files hashed by several threads, each taking the next one: samples (block > 0) or whole files.
typedef struct {
  const char **paths;
  double *sizes;
  uint32_t count;
  uint32_t block; // sample block; 0 hashes whole files
  bool follow;
  int threads;
  double *meta;           // count × SAMPLE_FIELDS, as readSamples'
  unsigned char *digests; // count × 16
  double *progress;       // [files, bytes] hashed so far, updated as they go; or NULL
  uint64_t files_done, bytes_done;
  uint32_t next;          // the next file to take (atomic)
  int oom;
} hash_run_t;

// Hashes every file of the run on `threads` threads, the calling one among them.
void hash_run(hash_run_t *r);
// Frees what a run's owner allocated for it: its files and its results.
void free_hash_run(hash_run_t *r);

// --- the hash cache's rows (cache_match.c, scan_cache.c) ---------------------------------------

size_t put_uint(char *dst, double v);
size_t identity_text(char *dst, const double *fields);
bool next_entry(const char **q, const char *end, const char *f[5], size_t fl[5]);
size_t dir_cache_key(char *dst, size_t cap, const char *root_key, size_t root_key_len, size_t root_len, const char *dir, size_t dlen);

// One cache entry of a directory's row (see matchEntries): its name, identity text and hashes.
typedef struct {
  const char *name, *id, *sample, *full;
  size_t name_len, id_len, sample_len, full_len;
} row_entry_t;

// One row's entries, as a scanning thread loaded them, with a table by name for rows of many.
typedef struct {
  row_entry_t *ents;
  size_t nents, ecap;
  int32_t *eslots;
  size_t eslot_cap;
} row_index_t;

// Hash-cache rows handed to scanFiles: directory key → row bytes, matched as each directory is listed.
typedef struct {
  const char *root_key;  // the root's key: absolute, normalised, ending in '/'
  size_t root_key_len;
  size_t root_len;       // the root as walked: a directory's key is root_key + what follows it + '/'
  uint32_t n;
  const char **keys;
  size_t *key_len;
  const char **rows;
  size_t *row_len;
  int32_t *slots;
  size_t cap;
  unsigned char *hit;    // per row: some file was served from it
} scan_cache_t;

void free_scan_cache(scan_cache_t *c);
int32_t cache_row_of(const scan_cache_t *c, const char *key, size_t klen);
int load_row(row_index_t *w, const char *row, size_t rlen);
const row_entry_t *find_entry(row_index_t *w, size_t *cursor, const char *name, size_t nlen, const char *id, size_t idlen);

// --- tree scans (tree_scan.c) ------------------------------------------------------------------

// Per file scanned: [size, dev, ino, mtimeSec, mtimeNsec].
#define SCAN_FIELDS 5
// A scanned path (with its NUL) is shorter than this: longer ones are reported as ENAMETOOLONG.
#define SCAN_PATH_BYTES 8192

// What one scan found, its threads' buffers joined: paths (each ending in NUL), count × SCAN_FIELDS
// fields, failures, and with cache rows the hints ("sample\0full\0" per file), the flags of the rows
// that served a file, and the root's cache key.
typedef struct {
  char *paths, *errs, *hints;
  size_t plen, elen, hlen, count;
  double *meta;
  char *root_key;
  size_t root_key_len, root_len;
  napi_value hit;
} scan_out_t;

// Extensions a scan keeps (lower-case ASCII, each with its leading '.'): a regular file whose name
// ends in none of them (ASCII case ignored, as the JS filter does) is skipped before it is stat'ed.
typedef struct {
  const char **ext;
  size_t *len;
  uint32_t n;
} ext_filter_t;

// Whether a name ends in one of the filter's extensions, ignoring ASCII case.
bool ext_keeps(const ext_filter_t *f, const char *nm, size_t nlen);

void free_scan_out(scan_out_t *o);
bool load_scan_cache(napi_env env, napi_value arg, scan_out_t *out, scan_cache_t *cache, char **keys_out, napi_value *hit_ab);
// `exts` NULL keeps every file.
bool run_scan(napi_env env, size_t argc, napi_value *argv, scan_out_t *out, const ext_filter_t *exts);

// --- scanDupes handles (dupes_handle.c, dupes_hash.c) ------------------------------------------

#define DUPES_MAGIC 0x44555045u

// One root of a scanDupes handle: its files are the scan's [start, next root's start), and its
// cache key (NULL without cache rows) names their directories' rows.
typedef struct {
  size_t start;
  char *key;
  size_t key_len, root_len;
} root_span_t;

// A scan held for the duplicate pipeline: its buffers (the roots' scans joined), the session
// grouping them, and the counts of what this run hashed.
typedef struct {
  uint32_t magic;
  scan_out_t scan;
  root_span_t *roots;
  uint32_t nroots;
  dupe_session_t *session;
  bool busy, include_empty;
  double whole_max;
  double sampled, fully_hashed, bytes_read;
} dupes_t;

dupes_t *dupes_of(napi_env env, napi_value v, const char *fn);
// Scans scanDupes' roots (argv[0]: a root or an array of them; argv[4]: the cache triple, or one
// per root) into d->scan and d->roots. false with a JS exception pending.
bool scan_roots(napi_env env, size_t argc, napi_value *argv, dupes_t *d);
void free_roots(dupes_t *d);

// --- the functions on the module's exports (fs_scan.c registers them) --------------------------

napi_value list_dir(napi_env env, napi_callback_info info);
napi_value stat_names(napi_env env, napi_callback_info info);
napi_value list_records(napi_env env, napi_callback_info info);
napi_value read_samples(napi_env env, napi_callback_info info);
napi_value hash_batch(napi_env env, napi_callback_info info);
napi_value sync_fs(napi_env env, napi_callback_info info);
napi_value copy_staged(napi_env env, napi_callback_info info);
napi_value copy_unshared(napi_env env, napi_callback_info info);
napi_value dedupe_range(napi_env env, napi_callback_info info);
napi_value scan_files(napi_env env, napi_callback_info info);
napi_value split_dirs(napi_env env, napi_callback_info info);
napi_value match_entries(napi_env env, napi_callback_info info);
napi_value group_cached_js(napi_env env, napi_callback_info info);
napi_value scan_dupes(napi_env env, napi_callback_info info);
napi_value dupes_hash(napi_env env, napi_callback_info info);
napi_value dupes_missing(napi_env env, napi_callback_info info);
napi_value dupes_files(napi_env env, napi_callback_info info);
napi_value dupes_result(napi_env env, napi_callback_info info);
napi_value dupes_keep(napi_env env, napi_callback_info info);

#endif
