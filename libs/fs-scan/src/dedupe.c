// dedupeRange: one file's extents shared with another's through the kernel's compare-and-share
// ioctl (FIDEDUPERANGE), on the thread pool. The kernel locks both files and compares their bytes
// before it shares a range, so a file that changed since it was hashed is never overwritten: the
// ioctl answers "differs" instead (the fix for fclones#293, where a plain clone did).
#include "fs_scan_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

// One ioctl asks for at most this many bytes: XFS and btrfs share at most 16 MiB per call (longer
// requests are shortened, or refused by older kernels), and each call holds both files' locks.
#define DEDUPE_CHUNK (16 << 20)

// What a dedupeRange came to (its `status` in JS).
enum { ST_SAME, ST_DIFFERS, ST_UNSUPPORTED, ST_SIZES, ST_NOT_FILE, ST_ONE_FILE };
static const char *const STATUS_NAMES[] = {"same", "differs", "unsupported", "sizes", "not-file", "one-file"};

typedef struct {
  char *src, *dst;
  int status;
  int err;             // an errno to throw (0: none); for ST_UNSUPPORTED, the errno that said so
  const char *syscall; // the call that failed
  int which;           // the path it failed on (or that is not a regular file): 0 src, 1 dst, 2 both
  double deduped, src_size, dst_size, offset;
  napi_async_work work;
  napi_deferred deferred;
} dedupe_job_t;

// The errnos by which a file system (or a pair of files on two of them) says it cannot share extents.
static bool is_unsupported(int e) {
  return e == EOPNOTSUPP || e == EINVAL || e == ENOTTY || e == EXDEV;
}

// Opens `path` (never through a symlink at its end; a FIFO does not block the open) and fstat()s it.
// -1 with j->err set when either fails.
static int open_file(dedupe_job_t *j, const char *path, int flags, int which, struct stat *st) {
  int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 && errno == EISDIR) { // a directory opened for writing: not a regular file, as any other
    j->status = ST_NOT_FILE;
    j->which = which;
    return -1;
  }
  if (fd < 0) {
    j->err = errno;
    j->syscall = "open";
    j->which = which;
    return -1;
  }
  if (fstat(fd, st) != 0) {
    j->err = errno;
    j->syscall = "fstat";
    j->which = which;
    close(fd);
    return -1;
  }
  return fd;
}

// Shares [0, size) of `out` with `in`, DEDUPE_CHUNK at a time, each call advancing by what the
// kernel says it shared. Stops at the first range whose bytes differ (status "differs": what came
// before it stays shared, its bytes equal in both files) or that the file system cannot share.
static void dedupe_all(dedupe_job_t *j, int in, int out, off_t size) {
  struct file_dedupe_range *r = calloc(1, sizeof *r + sizeof r->info[0]);
  if (!r) {
    j->err = ENOMEM;
    j->syscall = "malloc";
    return;
  }
  off_t pos = 0;
  while (pos < size) {
    memset(r, 0, sizeof *r + sizeof r->info[0]);
    r->src_offset = (uint64_t)pos;
    r->src_length = (uint64_t)(size - pos < DEDUPE_CHUNK ? size - pos : DEDUPE_CHUNK);
    r->dest_count = 1;
    r->info[0].dest_fd = out;
    r->info[0].dest_offset = (uint64_t)pos;
    int e = ioctl(in, FIDEDUPERANGE, r) != 0 ? errno : 0;
    if (e == EINTR) continue;
    if (e == 0 && r->info[0].status == FILE_DEDUPE_RANGE_DIFFERS) {
      j->status = ST_DIFFERS;
      j->offset = (double)pos;
      break;
    }
    if (e == 0 && r->info[0].status < 0) e = -r->info[0].status;
    if (e == 0 && r->info[0].bytes_deduped == 0) e = EIO; // no progress: never loop forever on a kernel's answer
    if (e != 0) {
      if (is_unsupported(e)) j->status = ST_UNSUPPORTED;
      j->err = e;
      j->syscall = "ioctl";
      j->which = 2;
      j->offset = (double)pos;
      break;
    }
    pos += (off_t)r->info[0].bytes_deduped;
  }
  j->deduped = (double)pos;
  free(r);
}

static void dedupe_execute(napi_env env, void *data) {
  (void)env;
  dedupe_job_t *j = data;
  struct stat ss, ds;
  int in = open_file(j, j->src, O_RDONLY, 0, &ss);
  if (in < 0) return;
  if (!S_ISREG(ss.st_mode)) {
    j->status = ST_NOT_FILE;
    j->which = 0;
    close(in);
    return;
  }
  // The copy's extents are replaced: the kernel wants it open for writing.
  int out = open_file(j, j->dst, O_RDWR, 1, &ds);
  if (out < 0) {
    close(in);
    return;
  }
  j->src_size = (double)ss.st_size;
  j->dst_size = (double)ds.st_size;
  if (!S_ISREG(ds.st_mode)) {
    j->status = ST_NOT_FILE;
    j->which = 1;
  } else if (ss.st_dev == ds.st_dev && ss.st_ino == ds.st_ino) {
    j->status = ST_ONE_FILE; // hard links of one file already share everything
  } else if (ss.st_size != ds.st_size) {
    j->status = ST_SIZES;
  } else {
    dedupe_all(j, in, out, ss.st_size);
  }
  close(out);
  close(in);
}

static void set_number(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  if (napi_create_double(env, v, &n) == napi_ok) napi_set_named_property(env, obj, name, n);
}

static void set_string(napi_env env, napi_value obj, const char *name, const char *v) {
  napi_value s;
  if (napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &s) == napi_ok) napi_set_named_property(env, obj, name, s);
}

// The error of a failed call, worded as node:fs words one (`EACCES: permission denied, open 'p'`;
// for the ioctl, both paths as copyfile names them), with code, errno, syscall and path (the copy's
// for the ioctl: the file it would have changed).
static napi_value job_error(napi_env env, const dedupe_job_t *j) {
  char msg[8448];
  const char *path = j->which == 0 ? j->src : j->dst;
  if (j->which == 2)
    snprintf(msg, sizeof msg, "%s: %s, %s '%s' -> '%s'", errno_name(j->err), uv_strerror(-j->err), j->syscall, j->src, j->dst);
  else
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_name(j->err), uv_strerror(-j->err), j->syscall, path);
  napi_value err = errno_error(env, j->err, msg);
  set_string(env, err, "syscall", j->syscall);
  set_string(env, err, "path", path);
  return err;
}

static void dedupe_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  dedupe_job_t *j = data;
  if (j->err != 0 && j->status != ST_UNSUPPORTED) {
    napi_reject_deferred(env, j->deferred, job_error(env, j));
  } else {
    napi_value res;
    if (napi_create_object(env, &res) != napi_ok) {
      settle_nomem(env, j->deferred, "dedupeRange");
    } else {
      set_string(env, res, "status", STATUS_NAMES[j->status]);
      set_number(env, res, "deduped", j->deduped);
      set_number(env, res, "srcSize", j->src_size);
      set_number(env, res, "destSize", j->dst_size);
      if (j->status == ST_DIFFERS || j->status == ST_UNSUPPORTED) set_number(env, res, "offset", j->offset);
      if (j->status == ST_UNSUPPORTED) set_string(env, res, "code", errno_name(j->err));
      if (j->status == ST_NOT_FILE) set_string(env, res, "path", j->which == 0 ? j->src : j->dst);
      napi_resolve_deferred(env, j->deferred, res);
    }
  }
  napi_delete_async_work(env, j->work);
  free(j->src);
  free(j->dst);
  free(j);
}

// dedupeRange(src, dst) -> Promise<result>, on the thread pool: see index.d.ts.
napi_value dedupe_range(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dedupe_job_t *j = calloc(1, sizeof *j);
  if (!j) return throw_nomem(env, "dedupeRange");
  j->src = argc >= 2 ? get_string(env, argv[0], NULL) : NULL;
  j->dst = argc >= 2 && j->src ? get_string(env, argv[1], NULL) : NULL;
  napi_value promise = NULL;
  if (!j->src || !j->dst) napi_throw_type_error(env, NULL, "dedupeRange: paths must be strings");
  else promise = queue_promise(env, "filer:dedupeRange", dedupe_execute, dedupe_complete, j, &j->work, &j->deferred);
  if (!promise) {
    free(j->src);
    free(j->dst);
    free(j);
  }
  return promise;
}
