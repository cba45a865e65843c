// Directory listing and batched stats for the local walker, one call per directory.
// Node's readdirSync sorts every listing (libuv's scandir) and builds an object per entry, and
// lstatSync resolves the whole path and builds a Stats object with four Dates per file; here a
// listing is one string and one byte array, and stats are fstatat() calls relative to the open
// directory, returned in one Float64Array.
#include "fs_scan_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { KIND_UNKNOWN = 0, KIND_FILE = 1, KIND_DIR = 2, KIND_SYMLINK = 3, KIND_OTHER = 4 };
#define STAT_FIELDS 7

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
napi_value list_dir(napi_env env, napi_callback_info info) {
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
napi_value stat_names(napi_env env, napi_callback_info info) {
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
