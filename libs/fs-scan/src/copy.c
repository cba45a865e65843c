// Writing files durably: syncFs (one syncfs for a whole file system), copyStaged (a copy to a new
// name on the thread pool, its writeback started chunk by chunk), and copyUnshared (a copy of a
// file's own: new extents, its owner, mode and times to the nanosecond).
#include "fs_scan_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

// syncFs(path): syncfs(2) on the file system holding `path` — one call makes every file written
// there durable, where an fsync per file would cost a disk flush each.
napi_value sync_fs(napi_env env, napi_callback_info info) {
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
  // copyUnshared: read and written (copy_file_range may share extents), owner and times kept.
  bool unshared;
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
  // The owner first: a chown clears set-id bits, which the fchmod then puts back.
  if (j->unshared && fchown(out, st.st_uid, st.st_gid) != 0) err = errno;
  if (!err && fchmod(out, st.st_mode & 07777) != 0) err = errno;
  off_t pos = 0;
  if (!err && j->unshared) {
    err = copy_by_reading(in, out, 0, st.st_size, j->flush);
    pos = st.st_size;
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (!err && futimens(out, times) != 0) err = errno;
  }
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

static napi_value queue_copy(napi_env env, napi_callback_info info, bool unshared);

// copyStaged(src, dst, flush) -> Promise<void>, on the thread pool: creates dst (it must not exist)
// with src's mode and copies src into it; with `flush`, writeback starts chunk by chunk and the
// promise resolves once the data is durable (fdatasync). On failure dst is removed.

napi_value copy_staged(napi_env env, napi_callback_info info) { return queue_copy(env, info, false); }

// copyUnshared(src, dst) -> Promise<void>: as copyStaged(src, dst, true), but the bytes are read
// and written (never copy_file_range, which shares extents on XFS and btrfs), and dst gets src's
// owner, group, mode, atime and mtime (futimens: to the nanosecond) before it is made durable.
napi_value copy_unshared(napi_env env, napi_callback_info info) { return queue_copy(env, info, true); }

static napi_value queue_copy(napi_env env, napi_callback_info info, bool unshared) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  copy_job_t *j = calloc(1, sizeof *j);
  if (!j) return throw_nomem(env, "copyStaged");
  size_t need = unshared ? 2 : 3;
  j->src = argc >= need ? get_string(env, argv[0], NULL) : NULL;
  j->dst = argc >= need ? get_string(env, argv[1], NULL) : NULL;
  j->unshared = unshared;
  if (unshared) j->flush = true;
  else if (argc >= 3) napi_get_value_bool(env, argv[2], &j->flush);
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
