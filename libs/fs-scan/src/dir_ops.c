// Directory-relative file operations (see dir_ops.h). Every name passed with a descriptor is one
// path component: a "/" in it, ".", ".." or "" is refused (EINVAL), so nothing resolves outside
// the opened directory.
#include "dir_ops.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

// Throws an Error worded as node:fs words one (`ELOOP: too many symbolic links encountered,
// openat 'd'`) with `code`, `errno` and `syscall`, unless an exception is already pending.
napi_value at_throw(napi_env env, int e, const char *syscall, const char *name) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return NULL;
  const char *code = strerrorname_np(e);
  if (!code) code = "EIO";
  char msg[4400];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", code, uv_strerror(-e), syscall, name);
  napi_value js_code, message, err, errnum, sc;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, js_code, message, &err);
  napi_create_int32(env, -e, &errnum);
  napi_set_named_property(env, err, "errno", errnum);
  napi_set_named_property(env, err, "code", js_code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, err, "syscall", sc);
  napi_throw(env, err);
  return NULL;
}

// A string argument copied into buf (NUL-terminated); false (TypeError or ENAMETOOLONG thrown)
// when it is not a string or does not fit.
static bool get_str(napi_env env, napi_value v, char *buf, size_t cap, const char *fn) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s: expected a string", fn);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  if (len >= cap) {
    at_throw(env, ENAMETOOLONG, fn, "");
    return false;
  }
  napi_get_value_string_utf8(env, v, buf, cap, &len);
  return true;
}

// One path component: not empty, not "." or "..", no "/".
static bool is_component(const char *name) {
  return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

// A descriptor argument followed by a name argument; false with an exception thrown otherwise.
bool at_get(napi_env env, napi_value fd_v, napi_value name_v, int *fd, char *name, const char *fn) {
  if (napi_get_value_int32(env, fd_v, fd) != napi_ok) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s: expected a descriptor", fn);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  if (!get_str(env, name_v, name, NAME_MAX + 1, fn)) return false;
  if (!is_component(name)) {
    at_throw(env, EINVAL, fn, name);
    return false;
  }
  return true;
}

// The call's first `want` arguments, undefined where fewer were passed.
void at_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
}

static const int DIR_FLAGS = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Opens the one component `name` below the open directory `fd` (O_NOFOLLOW): made first when
// missing and `create` (*made set). -1 with errno set (a symlink there: ELOOP) and *syscall
// naming the call that failed otherwise.
static int open_component(int fd, const char *name, bool create, bool *made, const char **syscall) {
  *made = false;
  *syscall = "openat";
  int sub = openat(fd, name, DIR_FLAGS);
  if (sub < 0 && errno == ENOENT && create) {
    // Another process may make it first (EEXIST): then it is opened like any other.
    if (mkdirat(fd, name, 0777) == 0) *made = true;
    else if (errno != EEXIST) {
      *syscall = "mkdirat";
      return -1;
    }
    sub = openat(fd, name, DIR_FLAGS);
  }
  if (sub < 0 && errno == ENOTDIR) {
    // O_DIRECTORY is checked first: a symlink answers ENOTDIR. Said as what it is.
    struct stat st;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) errno = ELOOP;
    else errno = ENOTDIR;
  }
  return sub;
}

static napi_value fd_and_created(napi_env env, int fd, int created) {
  napi_value out, v;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int32(env, fd, &v);
  napi_set_element(env, out, 0, v);
  napi_create_int32(env, created, &v);
  napi_set_element(env, out, 1, v);
  return out;
}

// openDir(path, create) -> [fd, created]: opens the absolute directory `path` as an O_PATH
// descriptor, one component at a time from "/" with O_NOFOLLOW: a symlink anywhere on the way
// fails with ELOOP (a file with ENOTDIR), a missing component with ENOENT — unless `create`, when it is made
// (mkdirat, relative to its opened parent) and counted in `created` (the last `created`
// components of the path are new). The caller closes fd.
static napi_value open_dir(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  at_args(env, info, 2, argv);
  char path[PATH_MAX];
  if (!get_str(env, argv[0], path, sizeof path, "openDir")) return NULL;
  bool create = false;
  napi_get_value_bool(env, argv[1], &create);
  if (path[0] != '/') return at_throw(env, EINVAL, "openDir", path);
  // One openat2 with RESOLVE_NO_SYMLINKS: the kernel walks the whole path and refuses a symlink
  // on it (ELOOP, a file ENOTDIR), as the walk below does one openat per component. A dedupe
  // apply opens thousands of deep directories; the walk cost it ~14 calls each. Dotted
  // components are refused first, as the walk refuses them. The walk remains for what openat2
  // cannot do: make missing components, and kernels before 5.6 (ENOSYS) or a seccomp filter.
  if (strstr(path, "/./") == NULL && strstr(path, "/../") == NULL) {
    size_t len = strlen(path);
    bool dotted_end = (len >= 2 && strcmp(path + len - 2, "/.") == 0) || (len >= 3 && strcmp(path + len - 3, "/..") == 0);
    if (!dotted_end) {
      struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
      int fd2 = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
      if (fd2 >= 0) return fd_and_created(env, fd2, 0);
      if (errno != ENOSYS && errno != EPERM && errno != E2BIG && errno != EINVAL && !(errno == ENOENT && create)) {
        // Named as the walk names it: the component that failed is not known here, so the path.
        return at_throw(env, errno, "openat", path);
      }
    }
  }
  int fd = open("/", DIR_FLAGS);
  if (fd < 0) return at_throw(env, errno, "open", "/");
  int created = 0;
  for (char *p = path + 1, *next; *p != '\0'; p = next) {
    next = strchr(p, '/');
    if (next) *next++ = '\0';
    else next = p + strlen(p);
    if (*p == '\0') continue; // "//"
    if (!is_component(p)) {
      close(fd);
      return at_throw(env, EINVAL, "openDir", path);
    }
    bool made;
    const char *syscall;
    int sub = open_component(fd, p, create, &made, &syscall);
    if (sub < 0) {
      int e = errno;
      close(fd);
      return at_throw(env, e, syscall, p);
    }
    created += made;
    close(fd);
    fd = sub;
  }
  return fd_and_created(env, fd, created);
}

enum { AT_KIND_FILE = 1, AT_KIND_DIR = 2, AT_KIND_SYMLINK = 3, AT_KIND_OTHER = 4 };

// statAt(fd, name, follow) -> Float64Array [kind, size, dev, ino, mtimeSec, mtimeNsec, mode, uid, gid] | null:
// fstatat relative to the directory (a symlink named is not followed unless `follow`); null when
// nothing is there (ENOENT).
static napi_value stat_at(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  at_args(env, info, 3, argv);
  int dirfd;
  char name[NAME_MAX + 1];
  if (!at_get(env, argv[0], argv[1], &dirfd, name, "statAt")) return NULL;
  bool follow = false;
  napi_get_value_bool(env, argv[2], &follow);
  struct stat st;
  if (fstatat(dirfd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      napi_value null;
      napi_get_null(env, &null);
      return null;
    }
    return at_throw(env, errno, "fstatat", name);
  }
  int kind = S_ISREG(st.st_mode) ? AT_KIND_FILE : S_ISDIR(st.st_mode) ? AT_KIND_DIR : S_ISLNK(st.st_mode) ? AT_KIND_SYMLINK : AT_KIND_OTHER;
  double f[9] = {kind, (double)st.st_size, (double)st.st_dev, (double)st.st_ino, (double)st.st_mtim.tv_sec, (double)st.st_mtim.tv_nsec,
                 (double)(st.st_mode & 07777), (double)st.st_uid, (double)st.st_gid};
  void *data;
  napi_value ab, out;
  if (napi_create_arraybuffer(env, sizeof f, &data, &ab) != napi_ok) return at_throw(env, ENOMEM, "statAt", name);
  memcpy(data, f, sizeof f);
  napi_create_typedarray(env, napi_float64_array, 9, ab, 0, &out);
  return out;
}

// linkAt / renameAt (fromFd, fromName, toFd, toName): linkat (a symlink named is linked itself,
// never followed; an existing target is EEXIST) or renameat, both relative to open directories.
static napi_value two_at(napi_env env, napi_callback_info info, bool rename) {
  const char *fn = rename ? "renameat" : "linkat";
  napi_value argv[4];
  at_args(env, info, 4, argv);
  int from, to;
  char a[NAME_MAX + 1], b[NAME_MAX + 1];
  if (!at_get(env, argv[0], argv[1], &from, a, fn) || !at_get(env, argv[2], argv[3], &to, b, fn)) return NULL;
  int r = rename ? renameat(from, a, to, b) : linkat(from, a, to, b, 0);
  if (r != 0) return at_throw(env, errno, fn, a);
  return NULL;
}

static napi_value link_at(napi_env env, napi_callback_info info) { return two_at(env, info, false); }
static napi_value rename_at(napi_env env, napi_callback_info info) { return two_at(env, info, true); }

// unlinkAt(fd, name, dir): removes the name (an empty directory with `dir`) from the open directory.
static napi_value unlink_at(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  at_args(env, info, 3, argv);
  int dirfd;
  char name[NAME_MAX + 1];
  if (!at_get(env, argv[0], argv[1], &dirfd, name, "unlinkat")) return NULL;
  bool dir = false;
  napi_get_value_bool(env, argv[2], &dir);
  if (unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0) != 0) return at_throw(env, errno, "unlinkat", name);
  return NULL;
}

void dir_ops_register(napi_env env, napi_value exports) {
  static const struct { const char *name; napi_callback cb; } fns[] = {
    {"openDir", open_dir}, {"statAt", stat_at}, {"linkAt", link_at}, {"renameAt", rename_at}, {"unlinkAt", unlink_at},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}
