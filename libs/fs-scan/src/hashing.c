// Sample reads and XXH3-128 hashing of samples and whole files: readSamples on the JS thread, and
// hashBatch (and the duplicate pipeline's phases, through hash_run) on threads of their own.
#include "fs_scan_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Header-only xxHash (vendor/xxhash): XXH3-128 in the hashing threads, so a digest costs no
// crossing into wasm per file and file bytes never reach JS.
#define XXH_INLINE_ALL
#include "xxhash.h"

// readSamples(pathsJoinedByNul, count, sizes: Float64Array, block, follow, out: Uint8Array)
//   -> Float64Array of count * [errno (0 ok, -1 short read), size, dev, ino, mtimeSec, mtimeNsec, bytes]
// For each file: its first `block` bytes and last `block` bytes (the whole file when it is no larger
// than 2 * block) are read into out[i * 2 * block ...], then the open file is fstat'ed so the caller
// can check it is still what the walk recorded. One call per batch instead of five syscalls' worth
// of JS calls per file.

// Reads exactly len bytes at pos: 0, errno, or -1 when the file ends first.
static int read_full(int fd, unsigned char *dst, size_t len, off_t pos) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, dst + done, len - done, pos + (off_t)done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

// Opens one file, reads its sample into dst (head block, then tail block when the file is larger
// than 2 * block) and fstats it; fills o with the identity fields and returns the bytes read, or
// sets o[0] to errno (-1 for a short read) and returns 0.
static size_t read_sample(const char *path, size_t size, uint32_t block, bool follow, unsigned char *dst, double *o) {
  memset(o, 0, SAMPLE_FIELDS * sizeof(double));
  int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0) {
    o[0] = errno;
    return 0;
  }
  int err;
  size_t bytes;
  if (size <= 2 * (size_t)block) {
    err = read_full(fd, dst, size, 0);
    bytes = size;
  } else {
    err = read_full(fd, dst, block, 0);
    if (!err) err = read_full(fd, dst + block, block, (off_t)(size - block));
    bytes = 2 * (size_t)block;
  }
  struct stat st;
  if (!err && fstat(fd, &st) != 0) err = errno;
  close(fd);
  if (err) {
    o[0] = err;
    return 0;
  }
  o[1] = (double)st.st_size;
  o[2] = (double)st.st_dev;
  o[3] = (double)st.st_ino;
  o[4] = (double)st.st_mtim.tv_sec;
  o[5] = (double)st.st_mtim.tv_nsec;
  o[6] = (double)bytes;
  return bytes;
}

// readSamples' arguments: paths joined by NUL, a count, the sizes the walk recorded, and an output
// byte array of at least count * out_per_file bytes.
typedef struct {
  char *names;
  const char *p, *end;
  uint32_t count;
  const double *sizes;
  bool follow;
  unsigned char *out;
} batch_args;

static bool get_batch(napi_env env, napi_value *argv, int follow_arg, int out_arg, size_t out_per_file, batch_args *a) {
  size_t names_len = 0;
  a->names = get_string(env, argv[0], &names_len);
  a->count = 0;
  a->follow = false;
  napi_get_value_uint32(env, argv[1], &a->count);
  napi_typedarray_type t = napi_uint8_array;
  size_t sizes_len = 0, out_len = 0;
  void *sizes_data = NULL, *out_data = NULL;
  bool ok = napi_get_typedarray_info(env, argv[2], &t, &sizes_len, &sizes_data, NULL, NULL) == napi_ok && t == napi_float64_array;
  napi_get_value_bool(env, argv[follow_arg], &a->follow);
  ok = ok && napi_get_typedarray_info(env, argv[out_arg], &t, &out_len, &out_data, NULL, NULL) == napi_ok && t == napi_uint8_array;
  if (!ok || !a->names || sizes_len < a->count || out_len < (size_t)a->count * out_per_file) {
    free(a->names);
    a->names = NULL;
    return false;
  }
  a->p = a->names;
  a->end = a->names + names_len;
  a->sizes = sizes_data;
  a->out = out_data;
  return true;
}

static const char *next_path(batch_args *a) {
  return next_name(&a->p, a->end, NULL);
}

static void put_digest(unsigned char *dst, XXH128_hash_t h) {
  // Canonical (big-endian) bytes: the same hex as hash-wasm's xxh128 and xxhsum -H2.
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  memcpy(dst, c.digest, sizeof c.digest);
}

napi_value read_samples(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t block = 0;
  napi_get_value_uint32(env, argv[3], &block);
  batch_args a;
  if (argc < 6 || !get_batch(env, argv, 4, 5, 2 * (size_t)block, &a)) {
    napi_throw_range_error(env, NULL, "readSamples: bad arguments");
    return NULL;
  }
  napi_value ab, result;
  void *res_data;
  if (!new_buffer(env, (size_t)a.count * SAMPLE_FIELDS * sizeof(double), &res_data, &ab)) {
    free(a.names);
    return throw_nomem(env, "readSamples");
  }
  double *r = res_data;
  for (uint32_t i = 0; i < a.count; i++) {
    const char *path = next_path(&a);
    read_sample(path, size_of(a.sizes[i]), block, a.follow, a.out + (size_t)i * 2 * block, r + (size_t)i * SAMPLE_FIELDS);
  }
  free(a.names);
  if (napi_create_typedarray(env, napi_float64_array, (size_t)a.count * SAMPLE_FIELDS, ab, 0, &result) != napi_ok)
    return throw_nomem(env, "readSamples");
  return result;
}

// Whole files are hashed through one reusable 1 MiB buffer per thread.
#define HASH_BUFFER_BYTES (1u << 20)

// Hashes exactly `size` bytes of `path` whole (XXH3-128 through `buf`, HASH_BUFFER_BYTES long), then
// fstats the open file: the digest goes to d and the identity fields to o, or o[0] = errno (-1 for a
// short read) and d is zeros.
static void hash_whole(const char *path, size_t size, bool follow, unsigned char *buf, XXH3_state_t *state, double *o, unsigned char *d) {
  memset(o, 0, SAMPLE_FIELDS * sizeof(double));
  memset(d, 0, 16);
  int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0) {
    o[0] = errno;
    return;
  }
  // Larger than one buffer: ask for a larger readahead window.
  if (size > HASH_BUFFER_BYTES) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  int err = 0;
  XXH128_hash_t h = {0, 0};
  if (size <= HASH_BUFFER_BYTES) {
    err = read_full(fd, buf, size, 0);
    if (!err) h = XXH3_128bits(buf, size);
  } else {
    XXH3_128bits_reset(state);
    size_t done = 0;
    while (done < size) {
      size_t want = size - done < HASH_BUFFER_BYTES ? size - done : HASH_BUFFER_BYTES;
      ssize_t n = read(fd, buf, want);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = errno;
        break;
      }
      if (n == 0) {
        err = -1;
        break;
      }
      XXH3_128bits_update(state, buf, (size_t)n);
      done += (size_t)n;
    }
    if (!err) h = XXH3_128bits_digest(state);
  }
  struct stat st;
  if (!err && fstat(fd, &st) != 0) err = errno;
  close(fd);
  if (err) {
    o[0] = err;
    return;
  }
  put_digest(d, h);
  o[1] = (double)st.st_size;
  o[2] = (double)st.st_dev;
  o[3] = (double)st.st_ino;
  o[4] = (double)st.st_mtim.tv_sec;
  o[5] = (double)st.st_mtim.tv_nsec;
  o[6] = (double)size;
}

// Hashes the sample of `path` (see read_sample) into d, through `buf` (2 × block long).
static void hash_sample(const char *path, size_t size, uint32_t block, bool follow, unsigned char *buf, double *o, unsigned char *d) {
  size_t bytes = read_sample(path, size, block, follow, buf, o);
  if (o[0] != 0) memset(d, 0, 16);
  else put_digest(d, XXH3_128bits(buf, bytes));
}

// --- hashBatch: samples or whole files hashed on threads of its own, off the JS thread ----------

static void store_progress(double *slot, uint64_t v) {
  double x = (double)v;
  __atomic_store(slot, &x, __ATOMIC_RELAXED);
}

static void *hash_run_thread(void *arg) {
  hash_run_t *r = arg;
  size_t cap = r->block ? 2 * (size_t)r->block : HASH_BUFFER_BYTES;
  unsigned char *buf = malloc(cap);
  XXH3_state_t *state = r->block ? NULL : XXH3_createState();
  if (!buf || (!r->block && !state)) {
    __atomic_store_n(&r->oom, 1, __ATOMIC_RELAXED);
    free(buf);
    XXH3_freeState(state);
    return NULL;
  }
  for (;;) {
    uint32_t i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
    if (i >= r->count) break;
    double *o = r->meta + (size_t)i * SAMPLE_FIELDS;
    unsigned char *d = r->digests + (size_t)i * 16;
    if (r->block) hash_sample(r->paths[i], size_of(r->sizes[i]), r->block, r->follow, buf, o, d);
    else hash_whole(r->paths[i], size_of(r->sizes[i]), r->follow, buf, state, o, d);
    if (r->progress) {
      store_progress(&r->progress[0], __atomic_add_fetch(&r->files_done, 1, __ATOMIC_RELAXED));
      store_progress(&r->progress[1], __atomic_add_fetch(&r->bytes_done, (uint64_t)o[6], __ATOMIC_RELAXED));
    }
  }
  XXH3_freeState(state);
  free(buf);
  return NULL;
}

// Frees what a run's owner allocated for it: its files and its results.
void free_hash_run(hash_run_t *r) {
  free(r->paths);
  free(r->sizes);
  free(r->meta);
  free(r->digests);
}

// Hashes every file of the run on `threads` threads, the calling one among them.
void hash_run(hash_run_t *r) {
  pthread_t tids[16];
  int started = 0;
  for (int t = 1; t < r->threads && t < 16; t++)
    if (pthread_create(&tids[started], NULL, hash_run_thread, r) == 0) started++;
  hash_run_thread(r);
  for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
}

typedef struct {
  char *names;
  hash_run_t run;
  napi_async_work work;
  napi_deferred deferred;
} hash_job_t;

static void hash_job_execute(napi_env env, void *data) {
  (void)env;
  hash_run(&((hash_job_t *)data)->run);
}

static void hash_job_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  hash_job_t *j = data;
  napi_value meta = NULL, digests = NULL, result = NULL;
  if (!j->run.oom && new_typed(env, napi_float64_array, (size_t)j->run.count * SAMPLE_FIELDS, sizeof(double), j->run.meta, &meta) &&
      new_typed(env, napi_uint8_array, (size_t)j->run.count * 16, 1, j->run.digests, &digests))
    result = js_tuple(env, 2, (napi_value[]){meta, digests});
  if (result) napi_resolve_deferred(env, j->deferred, result);
  else settle_nomem(env, j->deferred, "hashBatch");
  napi_delete_async_work(env, j->work);
  free(j->names);
  free_hash_run(&j->run);
  free(j);
}

// hashBatch(pathsJoinedByNul, count, sizes, block, follow, threads) -> Promise<[Float64Array, Uint8Array]>:
// with block > 0 each file's sample (the bytes readSamples reads, head ‖ tail, hashed as one
// stream), with block 0 exactly `size` bytes of each whole file (fewer is a short read, -1), hashed
// with XXH3-128 by `threads` threads started for the batch, off the JS thread. The same count × 7
// fields as readSamples (bytes = what was hashed), and 16 canonical digest bytes per file (zeros
// where it failed).
napi_value hash_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  hash_job_t *j = calloc(1, sizeof *j);
  if (!j) return throw_nomem(env, "hashBatch");
  size_t names_len = 0, sizes_len = 0;
  void *sizes_data = NULL;
  int32_t threads = 1;
  napi_typedarray_type t;
  j->names = get_string(env, argv[0], &names_len);
  napi_get_value_uint32(env, argv[1], &j->run.count);
  bool ok = napi_get_typedarray_info(env, argv[2], &t, &sizes_len, &sizes_data, NULL, NULL) == napi_ok && t == napi_float64_array;
  napi_get_value_uint32(env, argv[3], &j->run.block);
  napi_get_value_bool(env, argv[4], &j->run.follow);
  napi_get_value_int32(env, argv[5], &threads);
  j->run.threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
  if (!ok || !j->names || sizes_len < j->run.count || j->run.block > (1u << 24)) {
    free(j->names);
    free(j);
    napi_throw_range_error(env, NULL, "hashBatch: bad arguments");
    return NULL;
  }
  size_t n = j->run.count ? j->run.count : 1;
  j->run.paths = malloc(n * sizeof *j->run.paths);
  j->run.sizes = malloc(n * sizeof *j->run.sizes);
  j->run.meta = malloc(n * SAMPLE_FIELDS * sizeof *j->run.meta);
  j->run.digests = malloc(n * 16);
  if (!j->run.paths || !j->run.sizes || !j->run.meta || !j->run.digests) {
    free(j->names);
    free_hash_run(&j->run);
    free(j);
    napi_throw_error(env, "ENOMEM", "hashBatch: out of memory");
    return NULL;
  }
  memcpy(j->run.sizes, sizes_data, (size_t)j->run.count * sizeof(double));
  const char *p = j->names, *end = j->names + names_len;
  for (uint32_t i = 0; i < j->run.count; i++) j->run.paths[i] = next_name(&p, end, NULL);
  napi_value promise = queue_promise(env, "filer:hashBatch", hash_job_execute, hash_job_complete, j, &j->work, &j->deferred);
  if (!promise) {
    free(j->names);
    free_hash_run(&j->run);
    free(j);
  }
  return promise;
}

