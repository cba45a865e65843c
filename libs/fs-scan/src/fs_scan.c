// Directory listing and batched stats for the local walker, one call per directory.
// Node's readdirSync sorts every listing (libuv's scandir) and builds an object per entry, and
// lstatSync resolves the whole path and builds a Stats object with four Dates per file; here a
// listing is one string and one byte array, and stats are fstatat() calls relative to the open
// directory, returned in one Float64Array.
#include <node_api.h>
#include <uv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Header-only xxHash (vendor/xxhash): XXH3-128 in the hashing threads, so a digest costs no
// crossing into wasm per file and file bytes never reach JS.
#define XXH_INLINE_ALL
#include "xxhash.h"
#include "dupe_session.h"
#include "dir_ops.h"

enum { KIND_UNKNOWN = 0, KIND_FILE = 1, KIND_DIR = 2, KIND_SYMLINK = 3, KIND_OTHER = 4 };
#define STAT_FIELDS 7

static const char *errno_name(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "EIO";
}

// An Error with a `code` (ENOMEM, EINVAL…) for a failure that no system call reported.
static napi_value code_error(napi_env env, const char *code, const char *msg) {
  napi_value js_code = NULL, message = NULL, err = NULL;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, js_code, message, &err);
  return err;
}

// Throws an Error with `code` unless an exception is already pending (a failed N-API call may have
// left one, which then reaches JS unchanged). Returns NULL, for `return throw_code(...)`.
static napi_value throw_code(napi_env env, const char *code, const char *msg) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending) napi_throw(env, code_error(env, code, msg));
  return NULL;
}

// The ENOMEM Error of function `fn` (or whatever a failed N-API call left pending).
static napi_value throw_nomem(napi_env env, const char *fn) {
  char msg[96];
  snprintf(msg, sizeof msg, "%s: out of memory", fn);
  return throw_code(env, "ENOMEM", msg);
}

// Rejects a promise with the ENOMEM Error of `fn`, or with the exception a failed N-API call left
// pending (taken, so that it reaches JS through the promise).
static void settle_nomem(napi_env env, napi_deferred deferred, const char *fn) {
  bool pending = false;
  napi_value err = NULL;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &err);
  if (!err) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: out of memory", fn);
    err = code_error(env, "ENOMEM", msg);
  }
  napi_reject_deferred(env, deferred, err);
}

// An ArrayBuffer of `len` bytes (*data its memory, zero-filled), or false when N-API could not
// make one (too large, or an exception pending).
static bool new_buffer(napi_env env, size_t len, void **data, napi_value *ab) {
  *data = NULL;
  return napi_create_arraybuffer(env, len, data, ab) == napi_ok && (*data != NULL || len == 0);
}

// A typed array of `n` elements of `size` bytes, copied from src (when n > 0), or false.
static bool new_typed(napi_env env, napi_typedarray_type type, size_t n, size_t size, const void *src, napi_value *out) {
  void *data;
  napi_value ab;
  if (!new_buffer(env, n * size, &data, &ab)) return false;
  if (n) memcpy(data, src, n * size);
  return napi_create_typedarray(env, type, n, ab, 0, out) == napi_ok;
}

// An Error for errno `e` with node:fs's `code` and `errno` properties and the given message.
static napi_value errno_error(napi_env env, int e, const char *msg) {
  napi_value code = NULL, message = NULL, err = NULL, errnum = NULL;
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &err);
  napi_create_int32(env, -e, &errnum);
  napi_set_named_property(env, err, "errno", errnum);
  napi_set_named_property(env, err, "code", code);
  return err;
}

// Errors are worded by libuv, as node:fs words them: the portable walk reports the same text.
static napi_value throw_errno(napi_env env, int e, const char *syscall, const char *path) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return NULL;
  char msg[4352];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_name(e), uv_strerror(-e), syscall, path);
  napi_throw(env, errno_error(env, e, msg));
  return NULL;
}

// A JS array of `n` values: how the calls below return several results at once.
// NULL (with an exception pending) when one of the values or the array could not be made.
static napi_value js_tuple(napi_env env, size_t n, const napi_value *values) {
  napi_value result;
  for (size_t i = 0; i < n; i++)
    if (!values[i]) return throw_nomem(env, "fs-scan");
  if (napi_create_array_with_length(env, n, &result) != napi_ok) return throw_nomem(env, "fs-scan");
  for (size_t i = 0; i < n; i++)
    if (napi_set_element(env, result, (uint32_t)i, values[i]) != napi_ok) return throw_nomem(env, "fs-scan");
  return result;
}

// Reads a JS string argument into a malloc'd, NUL-terminated buffer; NULL when it is not a string,
// or with ENOMEM thrown when there is no memory for it (a TypeError the caller throws then stays
// unthrown: the first exception wins).
static char *get_string(napi_env env, napi_value v, size_t *len_out) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *buf = malloc(len + 1);
  if (!buf) {
    throw_nomem(env, "fs-scan");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, buf, len + 1, &len);
  if (len_out) *len_out = len;
  return buf;
}

// The name at *p among names joined by NUL up to `end` (where the buffer's terminating NUL is): its
// length in *len and *p moved past it. Asked for more names than there are, it gives "" (at `end`)
// and never reads beyond.
static const char *next_name(const char **p, const char *end, size_t *len) {
  const char *nm = *p;
  size_t l = strnlen(nm, (size_t)(end - nm));
  *p = nm + l < end ? nm + l + 1 : end;
  if (len) *len = l;
  return nm;
}

// A file size the JS side gave as a double: 0 unless it is a whole number a size_t holds (a cast of
// anything else is undefined behaviour).
static size_t size_of(double v) {
  return v >= 0 && v <= 9007199254740992.0 ? (size_t)v : 0;
}

static int kind_of_dtype(unsigned char t) {
  switch (t) {
    case DT_REG: return KIND_FILE;
    case DT_DIR: return KIND_DIR;
    case DT_LNK: return KIND_SYMLINK;
    case DT_UNKNOWN: return KIND_UNKNOWN;
    default: return KIND_OTHER;
  }
}

static int kind_of_mode(mode_t m) {
  if (S_ISREG(m)) return KIND_FILE;
  if (S_ISDIR(m)) return KIND_DIR;
  if (S_ISLNK(m)) return KIND_SYMLINK;
  return KIND_OTHER;
}

// listDir(path) -> [names joined by '\0', Uint8Array of kinds]
static napi_value list_dir(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *path = argc >= 1 ? get_string(env, argv[0], NULL) : NULL;
  if (!path) {
    napi_throw_type_error(env, NULL, "listDir: path must be a string");
    return NULL;
  }
  DIR *d = opendir(path);
  if (!d) {
    int e = errno;
    napi_value r = throw_errno(env, e, "scandir", path);
    free(path);
    return r;
  }
  size_t cap = 8192, len = 0, kcap = 256, n = 0;
  char *names = malloc(cap);
  unsigned char *kinds = malloc(kcap);
  int err = names && kinds ? 0 : ENOMEM;
  while (!err) {
    // errno is read only when readdir itself says it failed: anything called in between (malloc
    // may succeed and still leave errno set) must not make a clean end look like an error.
    errno = 0;
    struct dirent *ent = readdir(d);
    if (!ent) {
      err = errno;
      break;
    }
    const char *nm = ent->d_name;
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
    size_t l = strlen(nm);
    if (len + l + 1 > cap) {
      size_t c = cap;
      while (len + l + 1 > c) c *= 2;
      char *grown = realloc(names, c);
      if (!grown) {
        err = ENOMEM;
        break;
      }
      names = grown;
      cap = c;
    }
    if (n == kcap) {
      unsigned char *grown = realloc(kinds, kcap * 2);
      if (!grown) {
        err = ENOMEM;
        break;
      }
      kinds = grown;
      kcap *= 2;
    }
    if (n > 0) names[len++] = 0;
    memcpy(names + len, nm, l);
    len += l;
    kinds[n++] = (unsigned char)kind_of_dtype(ent->d_type);
  }
  closedir(d);
  napi_value js_names = NULL, js_kinds = NULL, result = NULL;
  if (err) throw_errno(env, err, "scandir", path);
  else if (napi_create_string_utf8(env, names, len, &js_names) != napi_ok || !new_typed(env, napi_uint8_array, n, 1, kinds, &js_kinds))
    throw_errno(env, ENOMEM, "scandir", path);
  else result = js_tuple(env, 2, (napi_value[]){js_names, js_kinds});
  free(path);
  free(names);
  free(kinds);
  return result;
}

// statNames(dir, namesJoinedByNul, count, follow) -> Float64Array of count * [kind, size, mtimeMs, dev, ino, mtimeSec, mtimeNsec];
// a failed entry has kind = -errno.
static napi_value stat_names(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *dir = get_string(env, argv[0], NULL);
  size_t names_len = 0;
  char *names = get_string(env, argv[1], &names_len);
  uint32_t count = 0;
  bool follow = false;
  napi_get_value_uint32(env, argv[2], &count);
  napi_get_value_bool(env, argv[3], &follow);
  if (!dir || !names) {
    free(dir);
    free(names);
    napi_throw_type_error(env, NULL, "statNames: bad arguments");
    return NULL;
  }
  napi_value ab, out;
  void *data;
  if (!new_buffer(env, (size_t)count * STAT_FIELDS * sizeof(double), &data, &ab)) {
    free(dir);
    free(names);
    return throw_nomem(env, "statNames");
  }
  double *f = data;
  // Opening the directory pays off when it holds several names to stat; for one or two, a
  // full-path stat costs fewer syscalls than open + fstatat + close.
  size_t dir_len = strlen(dir);
  int use_dirfd = count > 2;
  int dfd = use_dirfd ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  int dir_err = use_dirfd && dfd < 0 ? errno : 0;
  char full[8192];
  const char *p = names;
  const char *end = names + names_len;
  for (uint32_t i = 0; i < count; i++) {
    size_t l;
    const char *nm = next_name(&p, end, &l);
    double *o = f + (size_t)i * STAT_FIELDS;
    struct stat st;
    int rc;
    int err = 0;
    if (use_dirfd) {
      rc = dfd < 0 ? -1 : fstatat(dfd, nm, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
      err = dfd < 0 ? dir_err : errno;
    } else if (dir_len + 1 + l + 1 > sizeof full) {
      rc = -1;
      err = ENAMETOOLONG;
    } else {
      memcpy(full, dir, dir_len);
      size_t off = dir_len;
      if (off == 0 || full[off - 1] != '/') full[off++] = '/';
      memcpy(full + off, nm, l);
      full[off + l] = 0;
      rc = follow ? stat(full, &st) : lstat(full, &st);
      err = errno;
    }
    if (rc != 0) {
      o[0] = -(double)err;
      o[1] = o[2] = o[3] = o[4] = o[5] = o[6] = 0;
      continue;
    }
    o[0] = kind_of_mode(st.st_mode);
    o[1] = (double)st.st_size;
    o[2] = (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1e6;
    o[3] = (double)st.st_dev;
    o[4] = (double)st.st_ino;
    o[5] = (double)st.st_mtim.tv_sec;
    o[6] = (double)st.st_mtim.tv_nsec;
  }
  if (dfd >= 0) close(dfd);
  free(dir);
  free(names);
  if (napi_create_typedarray(env, napi_float64_array, (size_t)count * STAT_FIELDS, ab, 0, &out) != napi_ok) return throw_nomem(env, "statNames");
  return out;
}

// readSamples(pathsJoinedByNul, count, sizes: Float64Array, block, follow, out: Uint8Array)
//   -> Float64Array of count * [errno (0 ok, -1 short read), size, dev, ino, mtimeSec, mtimeNsec, bytes]
// For each file: its first `block` bytes and last `block` bytes (the whole file when it is no larger
// than 2 * block) are read into out[i * 2 * block ...], then the open file is fstat'ed so the caller
// can check it is still what the walk recorded. One call per batch instead of five syscalls' worth
// of JS calls per file.
#define SAMPLE_FIELDS 7
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

static napi_value read_samples(napi_env env, napi_callback_info info) {
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
static void free_hash_run(hash_run_t *r) {
  free(r->paths);
  free(r->sizes);
  free(r->meta);
  free(r->digests);
}

// Hashes every file of the run on `threads` threads, the calling one among them.
static void hash_run(hash_run_t *r) {
  pthread_t tids[16];
  int started = 0;
  for (int t = 1; t < r->threads && t < 16; t++)
    if (pthread_create(&tids[started], NULL, hash_run_thread, r) == 0) started++;
  hash_run_thread(r);
  for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
}

// Queues `execute` on the thread pool and `complete` back on the JS thread, and returns the promise
// that `complete` settles through *deferred; NULL, with an exception pending and nothing queued,
// when N-API could not (the caller still owns `data`).
static napi_value queue_promise(napi_env env, const char *name, napi_async_execute_callback execute,
                                napi_async_complete_callback complete, void *data, napi_async_work *work, napi_deferred *deferred) {
  napi_value promise, js_name;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &js_name) != napi_ok ||
      napi_create_async_work(env, NULL, js_name, execute, complete, data, work) != napi_ok)
    return throw_nomem(env, name);
  if (napi_create_promise(env, deferred, &promise) != napi_ok) {
    napi_delete_async_work(env, *work);
    return throw_nomem(env, name);
  }
  if (napi_queue_async_work(env, *work) != napi_ok) {
    napi_reject_deferred(env, *deferred, code_error(env, "ENOMEM", "could not queue the work")); // frees the deferred
    napi_delete_async_work(env, *work);
    return throw_nomem(env, name);
  }
  return promise;
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
static napi_value hash_batch(napi_env env, napi_callback_info info) {
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

// syncFs(path): syncfs(2) on the file system holding `path` — one call makes every file written
// there durable, where an fsync per file would cost a disk flush each.
static napi_value sync_fs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *path = get_string(env, argv[0], NULL);
  if (!path) {
    napi_throw_type_error(env, NULL, "syncFs: path must be a string");
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || syncfs(fd) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    napi_value r = throw_errno(env, e, "syncfs", path);
    free(path);
    return r;
  }
  close(fd);
  free(path);
  return NULL;
}

// --- copyStaged: one file copied to a new name, its writeback started as it is written ---------

// Chunks of this size are copied, and each one's writeback started (sync_file_range), while the
// next is copied: the disk works during the copy instead of only when it is flushed at the end.
#define COPY_CHUNK (8 << 20)

typedef struct {
  char *src, *dst;
  bool flush;
  int err;
  napi_async_work work;
  napi_deferred deferred;
} copy_job_t;

// Copies src's bytes to the open fd `out` with read/write: where copy_file_range cannot go.
static int copy_by_reading(int in, int out, off_t from, off_t size, bool flush) {
  const size_t cap = 1 << 20;
  unsigned char *buf = malloc(cap);
  if (!buf) return ENOMEM;
  off_t pos = from, synced = from;
  int err = 0;
  while (pos < size && !err) {
    ssize_t n = pread(in, buf, cap, pos);
    if (n < 0) { if (errno == EINTR) continue; err = errno; break; }
    if (n == 0) break;
    for (ssize_t w = 0; w < n;) {
      ssize_t m = pwrite(out, buf + w, (size_t)(n - w), pos + w);
      if (m < 0) { if (errno == EINTR) continue; err = errno; break; }
      w += m;
    }
    pos += n;
    if (flush && pos - synced >= COPY_CHUNK) {
      sync_file_range(out, synced, pos - synced, SYNC_FILE_RANGE_WRITE);
      synced = pos;
    }
  }
  free(buf);
  return err;
}

static void copy_execute(napi_env env, void *data) {
  (void)env;
  copy_job_t *j = data;
  int in = open(j->src, O_RDONLY | O_CLOEXEC);
  if (in < 0) { j->err = errno; return; }
  struct stat st;
  if (fstat(in, &st) != 0) { j->err = errno; close(in); return; }
  int out = open(j->dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
  if (out < 0) { j->err = errno; close(in); return; }
  int err = 0;
  if (fchmod(out, st.st_mode & 07777) != 0) err = errno;
  off_t pos = 0;
  while (!err && pos < st.st_size) {
    size_t want = st.st_size - pos < COPY_CHUNK ? (size_t)(st.st_size - pos) : COPY_CHUNK;
    ssize_t n = copy_file_range(in, &pos, out, NULL, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF) {
        err = copy_by_reading(in, out, pos, st.st_size, j->flush);
        break;
      }
      err = errno;
      break;
    }
    if (n == 0) break; // the source shrank: the caller's size check reports it
    if (j->flush) sync_file_range(out, pos - n, n, SYNC_FILE_RANGE_WRITE);
  }
  if (!err && j->flush && fdatasync(out) != 0) err = errno;
  if (close(out) != 0 && !err) err = errno;
  close(in);
  if (err) {
    unlink(j->dst); // never a partial file left behind, under any name
    j->err = err;
  }
}

static void copy_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  copy_job_t *j = data;
  if (j->err == 0) {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, j->deferred, undef);
  } else {
    char msg[8448];
    // Worded as node:fs words a failed copyFile, whichever step failed.
    snprintf(msg, sizeof msg, "%s: %s, copyfile '%s' -> '%s'", errno_name(j->err), uv_strerror(-j->err), j->src, j->dst);
    napi_value err = errno_error(env, j->err, msg), sc;
    napi_create_string_utf8(env, "copyfile", NAPI_AUTO_LENGTH, &sc);
    napi_set_named_property(env, err, "syscall", sc);
    napi_reject_deferred(env, j->deferred, err);
  }
  napi_delete_async_work(env, j->work);
  free(j->src);
  free(j->dst);
  free(j);
}

// copyStaged(src, dst, flush) -> Promise<void>, on the thread pool: creates dst (it must not exist)
// with src's mode and copies src into it; with `flush`, writeback starts chunk by chunk and the
// promise resolves once the data is durable (fdatasync). On failure dst is removed.
static napi_value copy_staged(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  copy_job_t *j = calloc(1, sizeof *j);
  if (!j) return throw_nomem(env, "copyStaged");
  j->src = argc >= 3 ? get_string(env, argv[0], NULL) : NULL;
  j->dst = argc >= 3 ? get_string(env, argv[1], NULL) : NULL;
  if (argc >= 3) napi_get_value_bool(env, argv[2], &j->flush);
  napi_value promise = NULL;
  if (!j->src || !j->dst) napi_throw_type_error(env, NULL, "copyStaged: paths must be strings");
  else promise = queue_promise(env, "filer:copyStaged", copy_execute, copy_complete, j, &j->work, &j->deferred);
  if (!promise) {
    free(j->src);
    free(j->dst);
    free(j);
  }
  return promise;
}

// --- scanFiles: a whole tree's regular files with their identity, in one call ----------------

// Formats a whole number the way JS prints it (the cache writes identities with JS templates).
static size_t put_uint(char *dst, double v) {
  if (!(v >= 0) || v > 9007199254740992.0 || v != (double)(uint64_t)v) return 0;
  // By hand: sprintf cost more than the rest of the matching together.
  char tmp[24];
  size_t n = 0;
  uint64_t u = (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  for (size_t k = 0; k < n; k++) dst[k] = tmp[n - 1 - k];
  return n;
}

// A file's identity as the cache writes it ("size,mtime_sec,mtime_nsec,ino,dev") from its fields in
// scan order (size, dev, ino, mtime s, ns): its length, or 0 when a field is not a whole number.
static size_t identity_text(char *dst, const double *fields) {
  static const int order[5] = {0, 3, 4, 2, 1};
  size_t len = 0;
  for (int k = 0; k < 5; k++) {
    if (k) dst[len++] = ',';
    size_t n = put_uint(dst + len, fields[order[k]]);
    if (n == 0) return 0;
    len += n;
  }
  return len;
}

// Splits the cache entry at *q (five NUL-terminated fields: name, identity, stored_at, sample, full)
// and moves *q past it; false at the row's end or on a torn entry (what came before still counts).
static bool next_entry(const char **q, const char *end, const char *f[5], size_t fl[5]) {
  const char *at = *q;
  for (int k = 0; k < 5; k++) {
    const char *z = at < end ? memchr(at, 0, (size_t)(end - at)) : NULL;
    if (!z) return false;
    f[k] = at;
    fl[k] = (size_t)(z - at);
    at = z + 1;
  }
  *q = at;
  return true;
}


typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

static int buf_put(buf_t *b, const char *s, size_t n) {
  if (n == 0) return 0; // (b->data may still be NULL: memcpy to it is undefined even for 0 bytes)
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (b->len + n > cap) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

typedef struct {
  char *path;
  int depth;
} scan_dir_t;

#define SCAN_FIELDS 5
// A scanned path (with its NUL) is shorter than this: longer ones are reported as ENAMETOOLONG.
#define SCAN_PATH_BYTES 8192
// A path this long or longer (PATH_MAX, its NUL included) can be neither opened nor stat'ed by name,
// here or by any other tool: the scan reports it as ENAMETOOLONG, as the portable walk does, and
// never lists or enters it (the open directory's fstatat could, but nothing after could use it).
#define SCAN_PATH_MAX 4096
// V8's longest string is about 2^29 characters; the paths must fit in one.
#define SCAN_MAX_PATH_BYTES ((size_t)1 << 28)

// Appends "path \0 code \0 message \0" for a failure, worded as node:fs words the portable walk's
// (a directory's readdir, or an entry's lstat). 0, or -1 when there was no memory to record it.
static int scan_error(buf_t *errs, const char *path, int e, int listing) {
  char msg[4352];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_name(e), uv_strerror(-e), listing ? "scandir" : "lstat", path);
  const char *code = errno_name(e);
  return buf_put(errs, path, strlen(path) + 1) || buf_put(errs, code, strlen(code) + 1) || buf_put(errs, msg, strlen(msg) + 1) ? -1 : 0;
}

// One cache entry of a directory's row (see matchEntries): its name, identity text and hashes.
typedef struct {
  const char *name, *id, *sample, *full;
  size_t name_len, id_len, sample_len, full_len;
} row_entry_t;

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

static void free_scan_cache(scan_cache_t *c) {
  free(c->keys);
  free(c->key_len);
  free(c->rows);
  free(c->row_len);
  free(c->slots);
}

// The directories still to read, shared by the scanning threads.
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  scan_dir_t *q;
  size_t qlen, qcap;
  int busy;
  int oom;
  bool hidden;
  int max_depth;
  scan_cache_t *cache;
} scan_shared_t;

// What one thread found: its files' paths and fields, and its failures.
typedef struct {
  scan_shared_t *sh;
  buf_t paths, errs;
  double *stats;
  size_t count, scap;
  // With cache rows: "sample\0full\0" per file (both empty on a miss), and the current row's entries.
  buf_t hints;
  row_entry_t *ents;
  size_t nents, ecap;
  int32_t *eslots;
  size_t eslot_cap;
} scan_worker_t;

// The cache key of directory `dir` (dlen bytes, walked from a root of root_len bytes whose key is
// root_key): the root's key, then what follows the root in `dir`, then '/'. Written to dst when it
// fits in cap bytes with room to spare for a NUL; returns its length, or 0 when it does not fit.
static size_t dir_cache_key(char *dst, size_t cap, const char *root_key, size_t root_key_len, size_t root_len, const char *dir, size_t dlen) {
  size_t rel = dlen > root_len ? root_len + (dir[root_len] == '/') : dlen;
  size_t klen = root_key_len + (dlen - rel);
  if (klen + 2 > cap) return 0;
  memcpy(dst, root_key, root_key_len);
  memcpy(dst + root_key_len, dir + rel, dlen - rel);
  if (dlen > rel) dst[klen++] = '/';
  return klen;
}

// The row of a directory's cache key, or -1.
static int32_t cache_row_of(const scan_cache_t *c, const char *key, size_t klen) {
  uint64_t h = XXH3_64bits(key, klen);
  for (size_t k = (size_t)h & (c->cap - 1); c->slots[k] >= 0; k = (k + 1) & (c->cap - 1)) {
    int32_t r = c->slots[k];
    if (c->key_len[r] == klen && memcmp(c->keys[r], key, klen) == 0) return r;
  }
  return -1;
}

// Splits row `r` into the worker's entry list; rows of many entries also get a table by name.
static int load_row(scan_worker_t *w, const char *row, size_t rlen) {
  w->nents = 0;
  const char *q = row, *f[5];
  size_t fl[5];
  while (next_entry(&q, row + rlen, f, fl)) {
    if (w->nents == w->ecap) {
      size_t cap = w->ecap ? w->ecap * 2 : 256;
      row_entry_t *ne = realloc(w->ents, cap * sizeof *ne);
      if (!ne) return -1;
      w->ents = ne;
      w->ecap = cap;
    }
    w->ents[w->nents++] = (row_entry_t){f[0], f[1], f[3], f[4], fl[0], fl[1], fl[3], fl[4]};
  }
  if (w->nents <= 64) return 0;
  size_t cap = 128;
  while (cap < w->nents * 2) cap *= 2;
  if (cap > w->eslot_cap) {
    int32_t *ns = realloc(w->eslots, cap * sizeof *ns);
    if (!ns) return -1;
    w->eslots = ns;
    w->eslot_cap = cap;
  }
  memset(w->eslots, -1, cap * sizeof *w->eslots);
  for (size_t e = 0; e < w->nents; e++) {
    size_t k = (size_t)XXH3_64bits(w->ents[e].name, w->ents[e].name_len) & (cap - 1);
    while (w->eslots[k] >= 0) k = (k + 1) & (cap - 1);
    w->eslots[k] = (int32_t)e;
  }
  return 0;
}

static int entry_is(const row_entry_t *e, const char *name, size_t nlen, const char *id, size_t idlen) {
  return e->name_len == nlen && e->id_len == idlen && memcmp(e->name, name, nlen) == 0 && memcmp(e->id, id, idlen) == 0;
}

// The loaded row's entry for a file with exactly this name and identity, or NULL. `cursor` (the
// entry after the last hit) is tried first: a row is written in the order its directory was walked.
static const row_entry_t *find_entry(scan_worker_t *w, size_t *cursor, const char *name, size_t nlen, const char *id, size_t idlen) {
  const row_entry_t *found = NULL;
  if (*cursor < w->nents && entry_is(&w->ents[*cursor], name, nlen, id, idlen)) found = &w->ents[*cursor];
  else if (w->nents <= 64) {
    for (size_t e = 0; e < w->nents && !found; e++)
      if (entry_is(&w->ents[e], name, nlen, id, idlen)) found = &w->ents[e];
  } else {
    // Every entry of this name: a name written twice is served by whichever matches.
    size_t cap = 128;
    while (cap < w->nents * 2) cap *= 2;
    for (size_t k = (size_t)XXH3_64bits(name, nlen) & (cap - 1); w->eslots[k] >= 0 && !found; k = (k + 1) & (cap - 1))
      if (entry_is(&w->ents[w->eslots[k]], name, nlen, id, idlen)) found = &w->ents[w->eslots[k]];
  }
  if (found) *cursor = (size_t)(found - w->ents) + 1;
  return found;
}

// Lists one directory: regular files go to the worker's results, subdirectories to `subdirs`.
static int scan_one(scan_worker_t *w, scan_dir_t dir, scan_dir_t **subdirs, size_t *nsub, size_t *subcap) {
  int fd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    int e = errno;
    if (fd >= 0) close(fd);
    return scan_error(&w->errs, dir.path, e, 1);
  }
  char child[SCAN_PATH_BYTES];
  size_t dlen = strlen(dir.path);
  int slash = dlen > 0 && dir.path[dlen - 1] == '/';
  scan_cache_t *cache = w->sh->cache;
  int32_t row = -1;
  size_t cursor = 0;
  if (cache) {
    size_t klen = dir_cache_key(child, sizeof child, cache->root_key, cache->root_key_len, cache->root_len, dir.path, dlen);
    if (klen > 0) {
      row = cache_row_of(cache, child, klen);
      if (row >= 0 && load_row(w, cache->rows[row], cache->row_len[row]) != 0) {
        closedir(d);
        return -1;
      }
    }
  }
  for (;;) {
    // errno is read only when readdir itself says it failed (see list_dir).
    errno = 0;
    struct dirent *ent = readdir(d);
    if (!ent) {
      int e = errno;
      if (e != 0 && scan_error(&w->errs, dir.path, e, 1) != 0) goto oom;
      break;
    }
    const char *nm = ent->d_name;
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
    if (!w->sh->hidden && nm[0] == '.') continue;
    size_t nlen = strlen(nm);
    if (dlen + 1 + nlen + 1 > SCAN_PATH_MAX) {
      // Too long to use (see SCAN_PATH_MAX): a file or a directory the walk would enter is
      // reported under its whole name, as the portable walk's lstat or readdir reports it.
      unsigned char t = ent->d_type;
      struct stat st;
      if (t == DT_UNKNOWN) t = fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) != 0 ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
      if (t != DT_REG && t != DT_DIR) continue;
      if (t == DT_DIR && w->sh->max_depth >= 0 && dir.depth + 1 >= w->sh->max_depth) continue;
      char *longer = malloc(dlen + nlen + 2);
      if (!longer) goto oom;
      snprintf(longer, dlen + nlen + 2, "%s%s%s", dir.path, slash ? "" : "/", nm);
      int failed = scan_error(&w->errs, longer, ENAMETOOLONG, t == DT_DIR);
      free(longer);
      if (failed) goto oom;
      continue;
    }
    memcpy(child, dir.path, dlen);
    size_t clen = dlen;
    if (!slash) child[clen++] = '/';
    memcpy(child + clen, nm, nlen + 1);
    clen += nlen;
    unsigned char t = ent->d_type;
    struct stat st;
    if (t == DT_REG || t == DT_UNKNOWN) {
      if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (scan_error(&w->errs, child, errno, 0) != 0) goto oom;
        continue;
      }
      if (S_ISDIR(st.st_mode)) t = DT_DIR;
      else if (S_ISREG(st.st_mode)) t = DT_REG;
      else continue;
    }
    if (t == DT_DIR) {
      if (w->sh->max_depth >= 0 && dir.depth + 1 >= w->sh->max_depth) continue;
      if (*nsub == *subcap) {
        size_t cap = *subcap ? *subcap * 2 : 16;
        scan_dir_t *ns = realloc(*subdirs, cap * sizeof **subdirs);
        if (!ns) goto oom;
        *subdirs = ns;
        *subcap = cap;
      }
      char *cp = malloc(clen + 1);
      if (!cp) goto oom;
      memcpy(cp, child, clen + 1);
      (*subdirs)[(*nsub)++] = (scan_dir_t){cp, dir.depth + 1};
      continue;
    }
    if (t != DT_REG) continue;
    if (w->count == w->scap) {
      size_t cap = w->scap ? w->scap * 2 : 4096;
      double *ns = realloc(w->stats, cap * SCAN_FIELDS * sizeof *w->stats);
      if (!ns) goto oom;
      w->stats = ns;
      w->scap = cap;
    }
    double *o = w->stats + w->count * SCAN_FIELDS;
    o[0] = (double)st.st_size;
    o[1] = (double)st.st_dev;
    o[2] = (double)st.st_ino;
    o[3] = (double)st.st_mtim.tv_sec;
    o[4] = (double)st.st_mtim.tv_nsec;
    if (buf_put(&w->paths, child, clen + 1) != 0) goto oom;
    w->count++;
    if (cache) {
      const row_entry_t *e = NULL;
      if (row >= 0) {
        char id[128];
        size_t idlen = identity_text(id, o);
        if (idlen > 0) e = find_entry(w, &cursor, nm, nlen, id, idlen);
      }
      if (e) {
        cache->hit[row] = 1;
        if (buf_put(&w->hints, e->sample, e->sample_len) || buf_put(&w->hints, "", 1) || buf_put(&w->hints, e->full, e->full_len) ||
            buf_put(&w->hints, "", 1))
          goto oom;
      } else if (buf_put(&w->hints, "\0\0", 2) != 0) goto oom;
    }
  }
  closedir(d);
  return 0;
oom:
  closedir(d);
  return -1;
}

static void free_scan_workers(scan_worker_t *workers, int n) {
  for (int i = 0; i < n; i++) {
    free(workers[i].paths.data);
    free(workers[i].errs.data);
    free(workers[i].stats);
    free(workers[i].hints.data);
    free(workers[i].ents);
    free(workers[i].eslots);
  }
}

// A scanning thread: takes a directory, lists it, queues its subdirectories; stops when the queue
// is empty and no thread is still listing (which could queue more).
static void *scan_worker(void *arg) {
  scan_worker_t *w = arg;
  scan_shared_t *sh = w->sh;
  scan_dir_t *subdirs = NULL;
  size_t subcap = 0;
  pthread_mutex_lock(&sh->mu);
  for (;;) {
    while (sh->qlen == 0 && sh->busy > 0 && !sh->oom) pthread_cond_wait(&sh->cv, &sh->mu);
    if (sh->qlen == 0 || sh->oom) break;
    scan_dir_t dir = sh->q[--sh->qlen];
    sh->busy++;
    pthread_mutex_unlock(&sh->mu);
    size_t nsub = 0;
    // At the depth limit a directory's children would be too deep: nothing to list.
    int failed = sh->max_depth >= 0 && dir.depth >= sh->max_depth ? 0 : scan_one(w, dir, &subdirs, &nsub, &subcap);
    free(dir.path);
    pthread_mutex_lock(&sh->mu);
    sh->busy--;
    if (failed) sh->oom = 1;
    if (sh->qlen + nsub > sh->qcap) {
      size_t cap = sh->qcap;
      while (sh->qlen + nsub > cap) cap *= 2;
      scan_dir_t *nq = realloc(sh->q, cap * sizeof *sh->q);
      if (!nq) sh->oom = 1;
      else {
        sh->q = nq;
        sh->qcap = cap;
      }
    }
    // Pushed in reverse so the first listed is read next, as the portable walker's stack does.
    for (size_t i = nsub; i-- > 0;) {
      if (sh->oom) free(subdirs[i].path);
      else sh->q[sh->qlen++] = subdirs[i];
    }
    pthread_cond_broadcast(&sh->cv);
  }
  pthread_cond_broadcast(&sh->cv);
  pthread_mutex_unlock(&sh->mu);
  free(subdirs);
  return NULL;
}

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

static void free_scan_out(scan_out_t *o) {
  free(o->paths);
  free(o->errs);
  free(o->hints);
  free(o->meta);
  free(o->root_key);
}

// Runs a scan for scanFiles and scanDupes, whose first five arguments it reads: root, hidden,
// maxDepth, threads and the optional cache ([root's key, row keys joined by NUL, row Buffers]).
// false with a JS exception pending.
static bool run_scan(napi_env env, size_t argc, napi_value *argv, scan_out_t *out) {
  memset(out, 0, sizeof *out);
  char *root = get_string(env, argv[0], &out->root_len);
  scan_shared_t sh = {.busy = 0, .oom = 0, .hidden = false, .max_depth = -1, .cache = NULL};
  int32_t threads = 1;
  napi_get_value_bool(env, argv[1], &sh.hidden);
  napi_get_value_int32(env, argv[2], &sh.max_depth);
  napi_get_value_int32(env, argv[3], &threads);
  if (!root) {
    napi_throw_type_error(env, NULL, "scan: root must be a string");
    return false;
  }
  scan_cache_t cache = {0};
  char *keys_joined = NULL;
  napi_value hit_ab = NULL;
  napi_valuetype cache_type = napi_undefined;
  if (argc >= 5) napi_typeof(env, argv[4], &cache_type);
  if (cache_type == napi_object) {
    napi_value v_key, v_keys, v_rows;
    napi_get_element(env, argv[4], 0, &v_key);
    napi_get_element(env, argv[4], 1, &v_keys);
    napi_get_element(env, argv[4], 2, &v_rows);
    size_t keys_len = 0;
    out->root_key = get_string(env, v_key, &out->root_key_len);
    keys_joined = get_string(env, v_keys, &keys_len);
    napi_get_array_length(env, v_rows, &cache.n);
    if (!out->root_key || !keys_joined) {
      free(root); free(out->root_key); free(keys_joined);
      out->root_key = NULL;
      napi_throw_type_error(env, NULL, "scan: cache must be [rootKey, keys, rows]");
      return false;
    }
    cache.root_key = out->root_key;
    cache.root_key_len = out->root_key_len;
    cache.root_len = out->root_len;
    cache.cap = 64;
    while (cache.cap < (size_t)cache.n * 2) cache.cap *= 2;
    cache.keys = calloc(cache.n + 1, sizeof *cache.keys);
    cache.key_len = calloc(cache.n + 1, sizeof *cache.key_len);
    cache.rows = calloc(cache.n + 1, sizeof *cache.rows);
    cache.row_len = calloc(cache.n + 1, sizeof *cache.row_len);
    cache.slots = malloc(cache.cap * sizeof *cache.slots);
    void *hit_data = NULL;
    if (!cache.keys || !cache.key_len || !cache.rows || !cache.row_len || !cache.slots || !new_buffer(env, cache.n, &hit_data, &hit_ab)) {
      free_scan_cache(&cache);
      free(root);
      free(keys_joined);
      free_scan_out(out);
      throw_nomem(env, "scan");
      return false;
    }
    cache.hit = hit_data;
    if (cache.n) memset(cache.hit, 0, cache.n);
    memset(cache.slots, -1, cache.cap * sizeof *cache.slots);
    // Rows are Buffers, read in place while the threads run (this call holds the JS thread).
    const char *k = keys_joined, *kend = keys_joined + keys_len;
    for (uint32_t r = 0; r < cache.n && k <= kend; r++) {
      size_t klen = strnlen(k, (size_t)(kend - k));
      napi_value v;
      bool is_buffer = false;
      napi_get_element(env, v_rows, r, &v);
      napi_is_buffer(env, v, &is_buffer);
      if (is_buffer) {
        void *bytes = NULL;
        napi_get_buffer_info(env, v, &bytes, &cache.row_len[r]);
        cache.rows[r] = bytes;
        cache.keys[r] = k;
        cache.key_len[r] = klen;
        size_t slot = (size_t)XXH3_64bits(k, klen) & (cache.cap - 1);
        while (cache.slots[slot] >= 0) slot = (slot + 1) & (cache.cap - 1);
        cache.slots[slot] = (int32_t)r;
      }
      k += klen + 1;
    }
    sh.cache = &cache;
  }
  if (threads < 1) threads = 1;
  if (threads > 16) threads = 16;
  pthread_mutex_init(&sh.mu, NULL);
  pthread_cond_init(&sh.cv, NULL);
  sh.qcap = 64;
  sh.q = malloc(sh.qcap * sizeof *sh.q);
  if (sh.q) sh.q[sh.qlen++] = (scan_dir_t){root, 0};
  else {
    free(root);
    sh.oom = 1;
  }
  scan_worker_t workers[16];
  pthread_t tids[16];
  memset(workers, 0, sizeof workers);
  // Workers 1..started run on threads of their own (a thread that could not start leaves no gap).
  int started = 0;
  for (int i = 0; i < threads; i++) workers[i].sh = &sh;
  for (int i = 1; i < threads && sh.q; i++)
    if (pthread_create(&tids[started + 1], NULL, scan_worker, &workers[started + 1]) == 0) started++;
  if (sh.q) scan_worker(&workers[0]);
  for (int i = 1; i <= started; i++) pthread_join(tids[i], NULL);
  while (sh.qlen > 0) free(sh.q[--sh.qlen].path);
  free(sh.q);
  pthread_mutex_destroy(&sh.mu);
  pthread_cond_destroy(&sh.cv);
  free_scan_cache(&cache);
  free(keys_joined);

  for (int i = 0; i <= started; i++) {
    out->count += workers[i].count;
    out->plen += workers[i].paths.len;
    out->elen += workers[i].errs.len;
    out->hlen += workers[i].hints.len;
  }
  // Beyond this the joined paths would not fit in one JS string: the caller walks portably instead.
  if (!sh.oom && (out->plen > SCAN_MAX_PATH_BYTES || out->hlen > SCAN_MAX_PATH_BYTES)) {
    free_scan_workers(workers, started + 1);
    free_scan_out(out);
    napi_throw_error(env, "E2BIG", "scan: too many paths for one call");
    return false;
  }
  // The threads' paths, fields, failures and hints, each joined into one buffer.
  if (!sh.oom) {
    out->paths = malloc(out->plen + 1);
    out->errs = malloc(out->elen + 1);
    out->hints = malloc(out->hlen + 1);
    out->meta = malloc((out->count ? out->count : 1) * SCAN_FIELDS * sizeof(double));
  }
  if (sh.oom || !out->paths || !out->errs || !out->hints || !out->meta) {
    free_scan_workers(workers, started + 1);
    free_scan_out(out);
    napi_throw_error(env, "ENOMEM", "scan: out of memory");
    return false;
  }
  size_t pat = 0, eat = 0, hat = 0, fat = 0;
  for (int i = 0; i <= started; i++) {
    if (workers[i].paths.len) memcpy(out->paths + pat, workers[i].paths.data, workers[i].paths.len);
    if (workers[i].errs.len) memcpy(out->errs + eat, workers[i].errs.data, workers[i].errs.len);
    if (workers[i].hints.len) memcpy(out->hints + hat, workers[i].hints.data, workers[i].hints.len);
    if (workers[i].count) memcpy(out->meta + fat, workers[i].stats, workers[i].count * SCAN_FIELDS * sizeof(double));
    pat += workers[i].paths.len;
    eat += workers[i].errs.len;
    hat += workers[i].hints.len;
    fat += workers[i].count * SCAN_FIELDS;
  }
  free_scan_workers(workers, started + 1);
  void *none;
  if (!hit_ab && !new_buffer(env, 0, &none, &hit_ab)) hit_ab = NULL;
  if (!hit_ab || napi_create_typedarray(env, napi_uint8_array, hit_ab ? cache.n : 0, hit_ab, 0, &out->hit) != napi_ok) {
    free_scan_out(out);
    throw_nomem(env, "scan");
    return false;
  }
  return true;
}

// scanFiles(root, hidden, maxDepth, threads[, cache]) -> [paths joined by NUL, Float64Array count ×
// [size, dev, ino, mtimeSec, mtimeNsec], failures as path\0code\0message\0 triples, hints, Uint8Array
// hit per row]. Symlinks are neither followed nor reported (they are not regular files); maxDepth < 0
// is no limit. With several threads the order of the files is not fixed. `cache` = [root's key, row
// keys joined by NUL, rows (Buffers, entries as matchEntries reads them)]: each file is matched in its
// directory's row as it is listed, and hints holds "sample\0full\0" per file, both empty on a miss
// ('' and an empty array without `cache`).
static napi_value scan_files(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  scan_out_t s;
  if (!run_scan(env, argc, argv, &s)) return NULL;
  napi_value js_paths = NULL, js_stats = NULL, js_errs = NULL, js_hints = NULL;
  // The last path's NUL is not part of the joined string.
  bool ok = new_typed(env, napi_float64_array, s.count * SCAN_FIELDS, sizeof(double), s.meta, &js_stats) &&
            napi_create_string_utf8(env, s.errs, s.elen, &js_errs) == napi_ok &&
            napi_create_string_utf8(env, s.paths, s.plen == 0 ? 0 : s.plen - 1, &js_paths) == napi_ok &&
            napi_create_string_utf8(env, s.hints, s.hlen, &js_hints) == napi_ok;
  free_scan_out(&s);
  if (!ok) return throw_nomem(env, "scanFiles");
  return js_tuple(env, 5, (napi_value[]){js_paths, js_stats, js_errs, js_hints, s.hit});
}

// --- scanDupes: the duplicate pipeline over a scan that never leaves native memory ---------------

#define DUPES_MAGIC 0x44555045u

// A scan held for the duplicate pipeline: its buffers, the session grouping them, and the counts
// of what this run hashed.
typedef struct {
  uint32_t magic;
  scan_out_t scan;
  dupe_session_t *session;
  bool busy;
  double sampled, fully_hashed, bytes_read;
} dupes_t;

static void dupes_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  dupes_t *d = data;
  dupe_session_free(d->session);
  free_scan_out(&d->scan);
  free(d);
}

// The dupes_t behind a handle, or NULL with a TypeError (also while a hashing phase runs on it).
static dupes_t *dupes_of(napi_env env, napi_value v, const char *fn) {
  napi_valuetype t;
  void *data = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok || !data ||
      ((dupes_t *)data)->magic != DUPES_MAGIC) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: not a scanDupes handle", fn);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  dupes_t *d = data;
  if (d->busy) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: a hashing phase is still running on this scan", fn);
    napi_throw_error(env, "EBUSY", msg);
    return NULL;
  }
  return d;
}

// scanDupes(root, hidden, maxDepth, threads, cache | undefined, [includeEmpty, wholeSampleMax]) ->
// [handle, failures (as scanFiles), Uint8Array hit per row]: scanFiles' scan, its files grouped by
// size (hard links collapsed) in native memory for dupesHash and dupesResult.
static napi_value scan_dupes(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool include_empty = false;
  double whole_max = 0;
  napi_valuetype t = napi_undefined;
  if (argc >= 6) napi_typeof(env, argv[5], &t);
  if (t != napi_object) {
    napi_throw_type_error(env, NULL, "scanDupes: expected [includeEmpty, wholeSampleMax]");
    return NULL;
  }
  napi_value v;
  napi_get_element(env, argv[5], 0, &v);
  napi_get_value_bool(env, v, &include_empty);
  napi_get_element(env, argv[5], 1, &v);
  napi_get_value_double(env, v, &whole_max);
  dupes_t *d = calloc(1, sizeof *d);
  if (!d) {
    napi_throw_error(env, "ENOMEM", "scanDupes: out of memory");
    return NULL;
  }
  d->magic = DUPES_MAGIC;
  if (!run_scan(env, argc, argv, &d->scan)) {
    free(d);
    return NULL;
  }
  scan_out_t *s = &d->scan;
  group_input_t in = {s->paths, s->plen, s->meta, s->hints, s->hlen, (uint32_t)s->count, include_empty, whole_max};
  d->session = dupe_session_new(&in);
  if (!d->session) {
    free_scan_out(s);
    free(d);
    napi_throw_error(env, "ENOMEM", "scanDupes: out of memory");
    return NULL;
  }
  napi_value handle, errs = NULL;
  if (napi_create_external(env, d, dupes_finalize, NULL, &handle) != napi_ok) {
    dupes_finalize(env, d, NULL);
    return throw_nomem(env, "scanDupes");
  }
  // From here the handle owns d: the garbage collector frees it.
  if (napi_create_string_utf8(env, s->errs, s->elen, &errs) != napi_ok) return throw_nomem(env, "scanDupes");
  return js_tuple(env, 3, (napi_value[]){handle, errs, s->hit});
}

// One hashing phase of a scanDupes handle, on threads of its own, off the JS thread.
typedef struct {
  dupes_t *d;
  int scope;
  uint32_t *list;   // the session's positions of the files hashed
  hash_run_t run;
  int failure;      // 0, ENOMEM, or -2 (a sample still missing)
  buf_t errs;
  napi_ref handle_ref, progress_ref;
  napi_async_work work;
  napi_deferred deferred;
} dupes_job_t;

// Records file i's failure as "path\0code\0message\0", in the forms the engine's hasher reports.
// 0, or -1 when there was no memory to record it.
static int dupes_error(buf_t *errs, const char *path, int e) {
  char msg[4352];
  const char *code = e > 0 ? errno_name(e) : "E_CHANGED";
  if (e > 0) snprintf(msg, sizeof msg, "%s: %s, open '%s'", code, uv_strerror(-e), path);
  else snprintf(msg, sizeof msg, "%s", e == -1 ? "shrank while it was read" : "changed since it was scanned");
  return buf_put(errs, path, strlen(path) + 1) || buf_put(errs, code, strlen(code) + 1) || buf_put(errs, msg, strlen(msg) + 1) ? -1 : 0;
}

static void dupes_hash_execute(napi_env env, void *data) {
  (void)env;
  dupes_job_t *j = data;
  dupes_t *d = j->d;
  hash_run_t *r = &j->run;
  long n = dupe_session_missing(d->session, j->scope, &j->list);
  if (n < 0) {
    j->failure = n == -2 ? -2 : ENOMEM;
    return;
  }
  if (n == 0) return;
  r->count = (uint32_t)n;
  r->paths = malloc((size_t)n * sizeof *r->paths);
  r->sizes = malloc((size_t)n * sizeof *r->sizes);
  r->meta = malloc((size_t)n * SAMPLE_FIELDS * sizeof *r->meta);
  r->digests = malloc((size_t)n * 16);
  if (!r->paths || !r->sizes || !r->meta || !r->digests) {
    j->failure = ENOMEM;
    return;
  }
  for (uint32_t k = 0; k < r->count; k++) dupe_session_file(d->session, j->list[k], &r->paths[k], &r->sizes[k]);
  hash_run(r);
  if (r->oom) {
    j->failure = ENOMEM;
    return;
  }
  static const char hexd[] = "0123456789abcdef";
  for (uint32_t k = 0; k < r->count; k++) {
    uint32_t i = j->list[k];
    const double *o = r->meta + (size_t)k * SAMPLE_FIELDS, *m = d->scan.meta + (size_t)i * SCAN_FIELDS;
    int e = (int)o[0];
    // Not what the scan recorded (size, device, inode, mtime to the ns): changed since, or while read.
    if (e == 0 && (o[1] != m[0] || o[2] != m[1] || o[3] != m[2] || o[4] != m[3] || o[5] != m[4])) e = -2;
    if (e != 0) {
      dupe_session_fail(d->session, i);
      // A failure that cannot be reported fails the phase: a file is never dropped unsaid.
      if (dupes_error(&j->errs, r->paths[k], e) != 0) {
        j->failure = ENOMEM;
        return;
      }
      continue;
    }
    char hex[32];
    const unsigned char *dg = r->digests + (size_t)k * 16;
    for (int b = 0; b < 16; b++) {
      hex[2 * b] = hexd[dg[b] >> 4];
      hex[2 * b + 1] = hexd[dg[b] & 15];
    }
    if (dupe_session_set(d->session, i, j->scope, hex, sizeof hex) != 0) {
      j->failure = ENOMEM;
      return;
    }
    d->bytes_read += o[6];
  }
  if (j->scope == SCOPE_SAMPLE) d->sampled += (double)n;
  else d->fully_hashed += (double)n;
}

static void dupes_hash_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  dupes_job_t *j = data;
  j->d->busy = false;
  napi_value result;
  if (j->failure == -2)
    napi_reject_deferred(env, j->deferred, code_error(env, "EINVAL", "dupesHash: whole hashes asked before every sample"));
  else if (!j->failure && napi_create_string_utf8(env, j->errs.data ? j->errs.data : "", j->errs.len, &result) == napi_ok)
    napi_resolve_deferred(env, j->deferred, result);
  else settle_nomem(env, j->deferred, "dupesHash");
  napi_delete_reference(env, j->handle_ref);
  if (j->progress_ref) napi_delete_reference(env, j->progress_ref);
  napi_delete_async_work(env, j->work);
  free(j->list);
  free_hash_run(&j->run);
  free(j->errs.data);
  free(j);
}

// dupesHash(handle, scope, block, threads[, progress]) -> Promise<failures>: hashes (XXH3-128, as
// hashBatch) what the scope still lacks, as dupe_session_missing lists it: scope 0 the candidates'
// samples (head and tail `block` bytes), scope 1 the whole files whose samples collide. A file that
// fails, or is no longer what the scan recorded, is left out of every group and reported as
// "path\0code\0message\0". `progress` (Float64Array [files, bytes]) counts on as files are hashed.
static napi_value dupes_hash(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dupes_t *d = argc >= 4 ? dupes_of(env, argv[0], "dupesHash") : NULL;
  if (!d) {
    if (argc < 4) napi_throw_type_error(env, NULL, "dupesHash: expected (handle, scope, block, threads[, progress])");
    return NULL;
  }
  uint32_t scope = 0, block = 0;
  int32_t threads = 1;
  napi_get_value_uint32(env, argv[1], &scope);
  napi_get_value_uint32(env, argv[2], &block);
  napi_get_value_int32(env, argv[3], &threads);
  if (scope > 1 || (scope == SCOPE_SAMPLE && (block == 0 || block > (1u << 24)))) {
    napi_throw_range_error(env, NULL, "dupesHash: bad arguments");
    return NULL;
  }
  dupes_job_t *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, "ENOMEM", "dupesHash: out of memory");
    return NULL;
  }
  j->d = d;
  j->scope = (int)scope;
  j->run.block = scope == SCOPE_SAMPLE ? block : 0;
  j->run.threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
  napi_valuetype pt = napi_undefined;
  if (argc >= 5) napi_typeof(env, argv[4], &pt);
  if (pt == napi_object) {
    napi_typedarray_type t;
    size_t len = 0;
    void *pdata = NULL;
    if (napi_get_typedarray_info(env, argv[4], &t, &len, &pdata, NULL, NULL) == napi_ok && t == napi_float64_array && len >= 2) {
      // The counts go on from the previous phase's.
      j->run.files_done = size_of(((double *)pdata)[0]);
      j->run.bytes_done = size_of(((double *)pdata)[1]);
      if (napi_create_reference(env, argv[4], 1, &j->progress_ref) == napi_ok) j->run.progress = pdata;
    }
  }
  // The handle and the progress array stay alive until the phase completes.
  napi_value promise = NULL;
  if (napi_create_reference(env, argv[0], 1, &j->handle_ref) == napi_ok)
    promise = queue_promise(env, "filer:dupesHash", dupes_hash_execute, dupes_hash_complete, j, &j->work, &j->deferred);
  else throw_nomem(env, "dupesHash");
  if (!promise) {
    if (j->handle_ref) napi_delete_reference(env, j->handle_ref);
    if (j->progress_ref) napi_delete_reference(env, j->progress_ref);
    free(j);
    return NULL;
  }
  d->busy = true;
  return promise;
}

// dupesMissing(handle, scope) -> how many files dupesHash would hash for the scope now; -1 for scope 1
// while samples are missing.
static napi_value dupes_missing(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dupes_t *d = dupes_of(env, argv[0], "dupesMissing");
  if (!d) return NULL;
  uint32_t scope = 0;
  napi_get_value_uint32(env, argv[1], &scope);
  uint32_t *list = NULL;
  long n = dupe_session_missing(d->session, scope == 1 ? SCOPE_FULL : SCOPE_SAMPLE, &list);
  free(list);
  if (n == -1) {
    napi_throw_error(env, "ENOMEM", "dupesMissing: out of memory");
    return NULL;
  }
  napi_value out;
  napi_create_double(env, n == -2 ? -1 : (double)n, &out);
  return out;
}

// dupesFiles(handle) -> [paths, fields, hints] as scanFiles returns them: the scan's files for the
// engine's pipeline, when hashes are needed that this addon does not make.
static napi_value dupes_files(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dupes_t *d = dupes_of(env, argv[0], "dupesFiles");
  if (!d) return NULL;
  scan_out_t *s = &d->scan;
  napi_value paths, fields, hints;
  if (!new_typed(env, napi_float64_array, s->count * SCAN_FIELDS, sizeof(double), s->meta, &fields) ||
      napi_create_string_utf8(env, s->paths, s->plen == 0 ? 0 : s->plen - 1, &paths) != napi_ok ||
      napi_create_string_utf8(env, s->hints, s->hlen, &hints) != napi_ok)
    return throw_nomem(env, "dupesFiles");
  return js_tuple(env, 3, (napi_value[]){paths, fields, hints});
}

// The cache's rows for the files hashed in this run, as a flat array [directory key, entries, count,
// …]: one element triple per run of files in one directory (the scan lists a directory's files
// together), entries as the cache stores them (name, identity, stored_at, sample, full).
static napi_value fresh_rows(napi_env env, dupes_t *d, double stored_at, bool *ok) {
  napi_value rows = NULL;
  *ok = napi_create_array(env, &rows) == napi_ok;
  scan_out_t *s = &d->scan;
  if (!s->root_key || !*ok) return rows;
  uint32_t *list = NULL;
  long n = dupe_session_fresh(d->session, &list);
  if (n < 0) {
    *ok = false;
    return rows;
  }
  // Room for the key of any scanned directory: the root's key and a path shorter than SCAN_PATH_BYTES.
  size_t key_cap = s->root_key_len + SCAN_PATH_BYTES + 2, klen = 0;
  char *key = malloc(key_cap);
  buf_t text = {0};
  uint32_t at = 0, in_row = 0;
  if (!key) {
    free(list);
    *ok = false;
    return rows;
  }
  char num[32], id[128];
  size_t stamp_len = put_uint(num, stored_at);
  const char *dir = NULL;
  size_t dlen = 0;
  for (long k = 0; k <= n && *ok; k++) {
    const char *path = NULL;
    size_t plen = 0, slash = 0;
    if (k < n) {
      double size;
      dupe_session_file(d->session, list[k], &path, &size);
      plen = strlen(path);
      const char *last = memrchr(path, '/', plen);
      slash = last ? (size_t)(last - path) : 0;
    }
    // A new directory (or the end): the finished row goes out.
    if (in_row > 0 && (k == n || slash != dlen || memcmp(path, dir, dlen) != 0)) {
      napi_value v_key, v_text, v_n;
      if (napi_create_string_utf8(env, key, klen, &v_key) != napi_ok || napi_create_string_utf8(env, text.data, text.len, &v_text) != napi_ok ||
          napi_create_uint32(env, in_row, &v_n) != napi_ok || napi_set_element(env, rows, at++, v_key) != napi_ok ||
          napi_set_element(env, rows, at++, v_text) != napi_ok || napi_set_element(env, rows, at++, v_n) != napi_ok) {
        *ok = false;
        break;
      }
      in_row = 0;
      text.len = 0;
    }
    if (k == n) break;
    if (in_row == 0) {
      // The key scan_one matched this directory's row by.
      dir = path;
      dlen = slash;
      klen = dir_cache_key(key, key_cap, s->root_key, s->root_key_len, s->root_len, dir, dlen);
      if (klen == 0) {
        *ok = false;
        break;
      }
    }
    const char *sample, *full;
    size_t sample_len, full_len;
    dupe_session_hashes(d->session, list[k], &sample, &sample_len, &full, &full_len);
    size_t idlen = identity_text(id, s->meta + (size_t)list[k] * SCAN_FIELDS);
    if (idlen == 0 || stamp_len == 0) continue;
    const char *name = path + slash + (path[slash] == '/');
    if (buf_put(&text, name, strlen(name) + 1) || buf_put(&text, id, idlen) || buf_put(&text, "", 1) || buf_put(&text, num, stamp_len) ||
        buf_put(&text, "", 1) || buf_put(&text, sample, sample_len) || buf_put(&text, "", 1) || buf_put(&text, full, full_len) ||
        buf_put(&text, "", 1))
      *ok = false;
    in_row++;
  }
  free(key);
  free(text.data);
  free(list);
  return rows;
}

// dupesResult(handle, storedAt) -> [groups, Float64Array stats, rows] or null while a needed hash is
// missing: the groups as groupCached gives them; stats = [files, extra hard links, empty files
// skipped, candidates, cache hits, samples hashed, whole files hashed, bytes hashed]; rows the cache
// entries of the files hashed in this run (see fresh_rows; none without cache rows), stored at `storedAt`.
static napi_value dupes_result(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dupes_t *d = dupes_of(env, argv[0], "dupesResult");
  if (!d) return NULL;
  double stored_at = 0;
  napi_get_value_double(env, argv[1], &stored_at);
  char *out = NULL;
  size_t out_len = 0;
  double stats[8];
  int r = dupe_session_groups(d->session, &out, &out_len, stats);
  napi_value result;
  if (r == GROUP_INCOMPLETE) {
    napi_get_null(env, &result);
    return result;
  }
  bool ok = r == GROUP_OK;
  napi_value text = NULL, js_stats, rows = NULL;
  if (ok) ok = napi_create_string_utf8(env, out ? out : "", out_len, &text) == napi_ok;
  free(out);
  if (ok) rows = fresh_rows(env, d, stored_at, &ok);
  stats[5] = d->sampled;
  stats[6] = d->fully_hashed;
  stats[7] = d->bytes_read;
  if (!ok || !new_typed(env, napi_float64_array, 8, sizeof(double), stats, &js_stats)) return throw_nomem(env, "dupesResult");
  return js_tuple(env, 3, (napi_value[]){text, js_stats, rows});
}

// --- hash-cache matching: the files asked, against their directories' cache rows ---------------

// splitDirs(pathsJoined, count) -> [unique directories joined by NUL, Int32Array directory of each
// path]: a path's directory is what precedes its last '/' ('.' without one, '' for '/name').
static napi_value split_dirs(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t len = 0;
  char *paths = get_string(env, argv[0], &len);
  uint32_t count = 0;
  napi_get_value_uint32(env, argv[1], &count);
  if (!paths) {
    napi_throw_type_error(env, NULL, "splitDirs: paths must be a string");
    return NULL;
  }
  napi_value ab, dir_of = NULL, js_dirs = NULL;
  void *data;
  // Open addressing over (hash of the directory's bytes) → directory number.
  size_t cap = 64;
  while (cap < (size_t)count * 2) cap *= 2;
  int32_t *slots = malloc(cap * sizeof *slots);
  const char **dir_at = malloc(((size_t)count + 1) * sizeof *dir_at);
  size_t *dir_len = malloc(((size_t)count + 1) * sizeof *dir_len);
  buf_t out = {0};
  bool ok = slots && dir_at && dir_len && new_buffer(env, (size_t)count * sizeof(int32_t), &data, &ab);
  if (ok) {
    int32_t *of = data;
    memset(slots, -1, cap * sizeof *slots);
    int32_t ndirs = 0, last = -1;
    const char *last_dir = NULL;
    size_t last_len = 0;
    const char *p = paths, *end = paths + len;
    for (uint32_t i = 0; i < count && ok; i++) {
      size_t plen;
      const char *path = next_name(&p, end, &plen);
      const char *slash = memrchr(path, '/', plen);
      const char *d = slash ? path : ".";
      size_t dlen = slash ? (size_t)(slash - path) : 1;
      if (last >= 0 && dlen == last_len && memcmp(d, last_dir, dlen) == 0) {
        of[i] = last;
        continue;
      }
      uint64_t h = XXH3_64bits(d, dlen);
      size_t k = (size_t)h & (cap - 1);
      while (slots[k] >= 0 && !(dir_len[slots[k]] == dlen && memcmp(dir_at[slots[k]], d, dlen) == 0)) k = (k + 1) & (cap - 1);
      if (slots[k] < 0) {
        slots[k] = ndirs;
        dir_at[ndirs] = d;
        dir_len[ndirs] = dlen;
        ok = (ndirs == 0 || buf_put(&out, "", 1) == 0) && buf_put(&out, d, dlen) == 0;
        ndirs++;
      }
      of[i] = last = slots[k];
      last_dir = d;
      last_len = dlen;
    }
  }
  ok = ok && napi_create_string_utf8(env, out.data ? out.data : "", out.len, &js_dirs) == napi_ok &&
       napi_create_typedarray(env, napi_int32_array, count, ab, 0, &dir_of) == napi_ok;
  free(out.data);
  free(slots);
  free(dir_at);
  free(dir_len);
  free(paths);
  if (!ok) return throw_nomem(env, "splitDirs");
  return js_tuple(env, 2, (napi_value[]){js_dirs, dir_of});
}

typedef struct {
  int32_t dir;
  const char *name;
  size_t name_len;
  const char *id;      // "size,mtime_sec,mtime_nsec,ino,dev" (without its NUL)
  size_t id_len;
  const char *sample;
  size_t sample_len;
  const char *full;
  size_t full_len;
} cache_entry_t;

// matchEntries(pathsJoined, count, ids, dirOf, rows: (Buffer | undefined)[]) -> [answers, Uint8Array hit per directory]:
// file i (identity ids[5i..5i+4] = size, dev, ino, mtimeSec, mtimeNsec) is looked up by its base name
// in rows[dirOf[i]] (a directory's entries, five NUL-terminated fields each: name, identity,
// stored_at, sample, full); answers holds "sample\0full\0" per file, both empty when no entry with
// exactly the file's identity exists.
static napi_value match_entries(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t len = 0;
  char *paths = argc >= 5 ? get_string(env, argv[0], &len) : NULL;
  uint32_t count = 0, nrows = 0;
  napi_get_value_uint32(env, argv[1], &count);
  napi_typedarray_type t = napi_uint8_array, t2 = napi_uint8_array;
  size_t ids_len = 0, dir_len = 0;
  void *ids_data = NULL, *dir_data = NULL;
  bool args_ok = paths && napi_get_typedarray_info(env, argv[2], &t, &ids_len, &ids_data, NULL, NULL) == napi_ok &&
                 t == napi_float64_array && napi_get_typedarray_info(env, argv[3], &t2, &dir_len, &dir_data, NULL, NULL) == napi_ok &&
                 t2 == napi_int32_array && napi_get_array_length(env, argv[4], &nrows) == napi_ok;
  if (!args_ok || ids_len < (size_t)count * 5 || dir_len < count) {
    free(paths);
    napi_throw_range_error(env, NULL, "matchEntries: bad arguments");
    return NULL;
  }
  const double *ids = ids_data;
  const int32_t *dir_of = dir_data;
  // Rows are Buffers (the UTF-8 bytes SQLite holds): read in place, never converted.
  char **rows = calloc(nrows ? nrows : 1, sizeof *rows);
  size_t nent = 0, ecap = 1024;
  cache_entry_t *ents = malloc(ecap * sizeof *ents);
  int32_t *slots = NULL;
  buf_t out = {0};
  napi_value hits_ab, hits = NULL, answers = NULL;
  void *hits_data;
  bool ok = rows && ents;
  for (uint32_t r = 0; r < nrows && ok; r++) {
    napi_value v;
    bool is_buffer = false;
    napi_get_element(env, argv[4], r, &v);
    napi_is_buffer(env, v, &is_buffer);
    if (!is_buffer) continue;
    void *bytes = NULL;
    size_t rlen = 0;
    napi_get_buffer_info(env, v, &bytes, &rlen);
    rows[r] = bytes;
    const char *q = rows[r], *f[5];
    size_t fl[5];
    while (ok && next_entry(&q, rows[r] + rlen, f, fl)) {
      if (nent == ecap) {
        cache_entry_t *grown = realloc(ents, ecap * 2 * sizeof *ents);
        if (!grown) {
          ok = false;
          break;
        }
        ents = grown;
        ecap *= 2;
      }
      ents[nent++] = (cache_entry_t){(int32_t)r, f[0], fl[0], f[1], fl[1], f[3], fl[3], f[4], fl[4]};
    }
  }
  size_t cap = 64;
  while (cap < nent * 2) cap *= 2;
  if (ok) ok = (slots = malloc(cap * sizeof *slots)) != NULL && new_buffer(env, nrows, &hits_data, &hits_ab);
  if (ok) {
    memset(slots, -1, cap * sizeof *slots);
    for (size_t e = 0; e < nent; e++) {
      uint64_t h = XXH3_64bits_withSeed(ents[e].name, ents[e].name_len, (uint64_t)ents[e].dir);
      size_t k = (size_t)h & (cap - 1);
      while (slots[k] >= 0) k = (k + 1) & (cap - 1);
      slots[k] = (int32_t)e;
    }
    unsigned char *hit = hits_data;
    const char *p = paths, *end = paths + len;
    char want[128];
    for (uint32_t i = 0; i < count && ok; i++) {
      size_t plen;
      const char *path = next_name(&p, end, &plen);
      const char *slash = memrchr(path, '/', plen);
      const char *name = slash ? slash + 1 : path;
      size_t nlen = plen - (size_t)(name - path);
      int32_t d = dir_of[i];
      const cache_entry_t *found = NULL;
      if (d >= 0 && (uint32_t)d < nrows && rows[d]) {
        // ids come as the hashers pack them, the scan's order.
        size_t wl = identity_text(want, ids + (size_t)i * 5);
        uint64_t h = XXH3_64bits_withSeed(name, nlen, (uint64_t)d);
        // Every entry of this name in this directory: a name written twice is served by whichever matches.
        for (size_t k = (size_t)h & (cap - 1); wl > 0 && slots[k] >= 0; k = (k + 1) & (cap - 1)) {
          const cache_entry_t *c = &ents[slots[k]];
          if (c->dir == d && c->name_len == nlen && memcmp(c->name, name, nlen) == 0 && c->id_len == wl && memcmp(c->id, want, wl) == 0) {
            found = c;
            break;
          }
        }
      }
      if (found) {
        hit[d] = 1;
        ok = buf_put(&out, found->sample, found->sample_len) == 0 && buf_put(&out, "", 1) == 0 &&
             buf_put(&out, found->full, found->full_len) == 0 && buf_put(&out, "", 1) == 0;
      } else {
        ok = buf_put(&out, "\0\0", 2) == 0;
      }
    }
  }
  ok = ok && napi_create_string_utf8(env, out.data ? out.data : "", out.len, &answers) == napi_ok &&
       napi_create_typedarray(env, napi_uint8_array, nrows, hits_ab, 0, &hits) == napi_ok;
  free(out.data);
  free(slots);
  free(ents);
  free(paths);
  free(rows);
  if (!ok) return throw_nomem(env, "matchEntries");
  return js_tuple(env, 2, (napi_value[]){answers, hits});
}

// groupCached(pathsJoined, count, meta, hintsJoined, includeEmpty, wholeUpTo) -> [groups, Float64Array
// stats] or null: the duplicate groups of a scan (scanFiles' paths, fields and hints) when every hash
// the grouping needs came from the cache, as dupe_session.h describes; null when one is missing.
static napi_value group_cached_js(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  group_input_t in = {0};
  napi_typedarray_type t = napi_uint8_array;
  size_t meta_len = 0;
  void *meta = NULL;
  napi_get_value_uint32(env, argv[1], &in.count);
  napi_get_typedarray_info(env, argv[2], &t, &meta_len, &meta, NULL, NULL);
  napi_get_value_bool(env, argv[4], &in.include_empty);
  napi_get_value_double(env, argv[5], &in.whole_up_to);
  char *paths = get_string(env, argv[0], &in.paths_len);
  char *hints = get_string(env, argv[3], &in.hints_len);
  if (!paths || !hints || t != napi_float64_array || meta_len < (size_t)in.count * SCAN_FIELDS) {
    free(paths);
    free(hints);
    napi_throw_range_error(env, NULL, "groupCached: bad arguments");
    return NULL;
  }
  in.paths = paths;
  in.hints = hints;
  in.meta = meta;
  char *out = NULL;
  size_t out_len = 0;
  double stats[4];
  int r = group_cached(&in, &out, &out_len, stats);
  free(paths);
  free(hints);
  napi_value result;
  if (r == GROUP_INCOMPLETE) {
    napi_get_null(env, &result);
    return result;
  }
  if (r != GROUP_OK) {
    napi_throw_error(env, "ENOMEM", "groupCached: out of memory");
    return NULL;
  }
  napi_value text, js_stats;
  bool ok = napi_create_string_utf8(env, out ? out : "", out_len, &text) == napi_ok;
  free(out);
  if (!ok || !new_typed(env, napi_float64_array, 4, sizeof(double), stats, &js_stats)) return throw_nomem(env, "groupCached");
  return js_tuple(env, 2, (napi_value[]){text, js_stats});
}

NAPI_MODULE_INIT() {
  napi_value sf;
  napi_create_function(env, "syncFs", NAPI_AUTO_LENGTH, sync_fs, NULL, &sf);
  napi_set_named_property(env, exports, "syncFs", sf);
  napi_value rs;
  napi_create_function(env, "readSamples", NAPI_AUTO_LENGTH, read_samples, NULL, &rs);
  napi_set_named_property(env, exports, "readSamples", rs);
  napi_value fn;
  napi_create_function(env, "listDir", NAPI_AUTO_LENGTH, list_dir, NULL, &fn);
  napi_set_named_property(env, exports, "listDir", fn);
  napi_create_function(env, "statNames", NAPI_AUTO_LENGTH, stat_names, NULL, &fn);
  napi_set_named_property(env, exports, "statNames", fn);
  napi_create_function(env, "scanFiles", NAPI_AUTO_LENGTH, scan_files, NULL, &fn);
  napi_set_named_property(env, exports, "scanFiles", fn);
  napi_create_function(env, "copyStaged", NAPI_AUTO_LENGTH, copy_staged, NULL, &fn);
  napi_set_named_property(env, exports, "copyStaged", fn);
  napi_create_function(env, "hashBatch", NAPI_AUTO_LENGTH, hash_batch, NULL, &fn);
  napi_set_named_property(env, exports, "hashBatch", fn);
  napi_create_function(env, "splitDirs", NAPI_AUTO_LENGTH, split_dirs, NULL, &fn);
  napi_set_named_property(env, exports, "splitDirs", fn);
  napi_create_function(env, "matchEntries", NAPI_AUTO_LENGTH, match_entries, NULL, &fn);
  napi_set_named_property(env, exports, "matchEntries", fn);
  napi_create_function(env, "groupCached", NAPI_AUTO_LENGTH, group_cached_js, NULL, &fn);
  napi_set_named_property(env, exports, "groupCached", fn);
  napi_create_function(env, "scanDupes", NAPI_AUTO_LENGTH, scan_dupes, NULL, &fn);
  napi_set_named_property(env, exports, "scanDupes", fn);
  napi_create_function(env, "dupesHash", NAPI_AUTO_LENGTH, dupes_hash, NULL, &fn);
  napi_set_named_property(env, exports, "dupesHash", fn);
  napi_create_function(env, "dupesMissing", NAPI_AUTO_LENGTH, dupes_missing, NULL, &fn);
  napi_set_named_property(env, exports, "dupesMissing", fn);
  napi_create_function(env, "dupesFiles", NAPI_AUTO_LENGTH, dupes_files, NULL, &fn);
  napi_set_named_property(env, exports, "dupesFiles", fn);
  napi_create_function(env, "dupesResult", NAPI_AUTO_LENGTH, dupes_result, NULL, &fn);
  napi_set_named_property(env, exports, "dupesResult", fn);
  dir_ops_register(env, exports);
  return exports;
}
