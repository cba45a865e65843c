// sameBytesAt: the full compare a dedupe job makes before it acts on a pair of files, in one call
// relative to the directories the job opened: both files opened (never through a symlink), their
// bytes read in large chunks and compared, both closed. In JS the same compare cost two lstats, two
// opens through /proc magic links and a read call per chunk per file.
#include "dir_ops.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Large enough that a typical file is one read each; small enough to stay in the CPU's caches.
enum { CHUNK = 256 * 1024 };

// Reads up to `len` bytes at `pos` (short reads retried); the count read, or -1 with errno set.
static ssize_t read_full(int fd, char *buf, size_t len, off_t pos) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(fd, buf + got, len - got, pos + (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

// 1 same bytes, 0 not (a size or byte differs, or either is not a regular file), -1 with errno set.
static int compare_fds(int fa, int fb) {
  struct stat sa, sb;
  if (fstat(fa, &sa) != 0 || fstat(fb, &sb) != 0) return -1;
  if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) || sa.st_size != sb.st_size) return 0;
  size_t len = sa.st_size < CHUNK ? (size_t)sa.st_size : CHUNK;
  if (len == 0) return 1;
  char *buf = malloc(2 * len);
  if (!buf) {
    errno = ENOMEM;
    return -1;
  }
  int same = 1;
  for (off_t pos = 0; pos < sa.st_size;) {
    ssize_t n = read_full(fa, buf, len, pos);
    ssize_t m = n < 0 ? -1 : read_full(fb, buf + len, len, pos);
    if (n < 0 || m < 0) {
      same = -1;
      break;
    }
    // A file that shrank or grew meanwhile is not the same.
    if (n != m || n == 0 || memcmp(buf, buf + len, (size_t)n) != 0) {
      same = 0;
      break;
    }
    pos += n;
  }
  int e = errno;
  free(buf);
  errno = e;
  return same;
}

// O_NONBLOCK: a FIFO put in a file's place must not block the open (it is then "not the same").
static const int READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

// sameBytesAt(fdA, nameA, fdB, nameB) -> boolean: whether the names hold regular files with the
// same size and bytes. A symlink at either name is not followed: false. A missing name throws
// (ENOENT), as lstat does.
static napi_value same_bytes_at(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  at_args(env, info, 4, argv);
  int da, db;
  char a[NAME_MAX + 1], b[NAME_MAX + 1];
  if (!at_get(env, argv[0], argv[1], &da, a, "sameBytesAt") || !at_get(env, argv[2], argv[3], &db, b, "sameBytesAt")) return NULL;
  int same = 0;
  int fa = openat(da, a, READ_FLAGS);
  if (fa < 0 && errno != ELOOP) return at_throw(env, errno, "open", a);
  if (fa >= 0) {
    int fb = openat(db, b, READ_FLAGS);
    if (fb < 0 && errno != ELOOP) {
      int e = errno;
      close(fa);
      return at_throw(env, e, "open", b);
    }
    if (fb >= 0) {
      same = compare_fds(fa, fb);
      int e = errno;
      close(fb);
      errno = e;
    }
    int e = errno;
    close(fa);
    errno = e;
  }
  if (same < 0) return at_throw(env, errno, "read", a);
  napi_value out;
  napi_get_boolean(env, same == 1, &out);
  return out;
}

void compare_at_register(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sameBytesAt", NAPI_AUTO_LENGTH, same_bytes_at, NULL, &fn);
  napi_set_named_property(env, exports, "sameBytesAt", fn);
}
