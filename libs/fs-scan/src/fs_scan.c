// Directory listing and batched stats for the local walker, one call per directory.
// Node's readdirSync sorts every listing (libuv's scandir) and builds an object per entry, and
// lstatSync resolves the whole path and builds a Stats object with four Dates per file; here a
// listing is one string and one byte array, and stats are fstatat() calls relative to the open
// directory, returned in one Float64Array.
#include <node_api.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { KIND_UNKNOWN = 0, KIND_FILE = 1, KIND_DIR = 2, KIND_SYMLINK = 3, KIND_OTHER = 4 };
#define STAT_FIELDS 7

static const char *errno_name(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "EIO";
}

static napi_value throw_errno(napi_env env, int e, const char *syscall, const char *path) {
  char msg[4352];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_name(e), strerror(e), syscall, path);
  napi_value code, message, err, errnum;
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &err);
  napi_create_int32(env, -e, &errnum);
  napi_set_named_property(env, err, "errno", errnum);
  napi_set_named_property(env, err, "code", code);
  napi_throw(env, err);
  return NULL;
}

// Reads a JS string argument into a malloc'd, NUL-terminated buffer.
static char *get_string(napi_env env, napi_value v, size_t *len_out) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *buf = malloc(len + 1);
  if (!buf) return NULL;
  napi_get_value_string_utf8(env, v, buf, len + 1, &len);
  if (len_out) *len_out = len;
  return buf;
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
  char *path = get_string(env, argv[0], NULL);
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
  struct dirent *ent;
  errno = 0;
  while ((ent = readdir(d)) != NULL) {
    const char *nm = ent->d_name;
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
    size_t l = strlen(nm);
    if (len + l + 1 > cap) {
      while (len + l + 1 > cap) cap *= 2;
      names = realloc(names, cap);
    }
    if (n > 0) names[len++] = 0;
    memcpy(names + len, nm, l);
    len += l;
    if (n == kcap) {
      kcap *= 2;
      kinds = realloc(kinds, kcap);
    }
    kinds[n++] = (unsigned char)kind_of_dtype(ent->d_type);
  }
  int read_err = errno;
  closedir(d);
  if (read_err != 0) {
    napi_value r = throw_errno(env, read_err, "scandir", path);
    free(path);
    free(names);
    free(kinds);
    return r;
  }
  free(path);
  napi_value js_names, js_kinds, result, ab;
  napi_create_string_utf8(env, names, len, &js_names);
  void *data;
  napi_create_arraybuffer(env, n, &data, &ab);
  if (n) memcpy(data, kinds, n);
  napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &js_kinds);
  free(names);
  free(kinds);
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, js_names);
  napi_set_element(env, result, 1, js_kinds);
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
  napi_create_arraybuffer(env, (size_t)count * STAT_FIELDS * sizeof(double), &data, &ab);
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
    const char *nm = p;
    size_t l = strnlen(p, (size_t)(end - p));
    p += l + 1;
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
  napi_create_typedarray(env, napi_float64_array, (size_t)count * STAT_FIELDS, ab, 0, &out);
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

static napi_value read_samples(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t names_len = 0;
  char *names = get_string(env, argv[0], &names_len);
  uint32_t count = 0, block = 0;
  bool follow = false;
  napi_get_value_uint32(env, argv[1], &count);
  napi_typedarray_type t;
  size_t sizes_len;
  void *sizes_data;
  napi_get_typedarray_info(env, argv[2], &t, &sizes_len, &sizes_data, NULL, NULL);
  napi_get_value_uint32(env, argv[3], &block);
  napi_get_value_bool(env, argv[4], &follow);
  size_t out_len;
  void *out_data;
  napi_get_typedarray_info(env, argv[5], &t, &out_len, &out_data, NULL, NULL);
  if (!names || sizes_len < count || out_len < (size_t)count * 2 * block) {
    free(names);
    napi_throw_range_error(env, NULL, "readSamples: bad arguments");
    return NULL;
  }
  const double *sizes = sizes_data;
  unsigned char *out = out_data;
  napi_value ab, result;
  void *res_data;
  napi_create_arraybuffer(env, (size_t)count * SAMPLE_FIELDS * sizeof(double), &res_data, &ab);
  double *r = res_data;
  const char *p = names;
  const char *end = names + names_len;
  for (uint32_t i = 0; i < count; i++) {
    const char *path = p;
    p += strnlen(p, (size_t)(end - p)) + 1;
    double *o = r + (size_t)i * SAMPLE_FIELDS;
    memset(o, 0, SAMPLE_FIELDS * sizeof(double));
    int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
      o[0] = errno;
      continue;
    }
    size_t size = (size_t)sizes[i];
    unsigned char *dst = out + (size_t)i * 2 * block;
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
      continue;
    }
    o[1] = (double)st.st_size;
    o[2] = (double)st.st_dev;
    o[3] = (double)st.st_ino;
    o[4] = (double)st.st_mtim.tv_sec;
    o[5] = (double)st.st_mtim.tv_nsec;
    o[6] = (double)bytes;
  }
  free(names);
  napi_create_typedarray(env, napi_float64_array, (size_t)count * SAMPLE_FIELDS, ab, 0, &result);
  return result;
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
  return exports;
}
