// N-API helpers the addon's modules share: errors worded as node:fs words them, buffers and typed
// arrays, string arguments, promises for work on the thread pool, and a growable byte buffer.
#include "fs_scan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

const char *errno_name(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "EIO";
}

// An Error with a `code` (ENOMEM, EINVAL…) for a failure that no system call reported.
napi_value code_error(napi_env env, const char *code, const char *msg) {
  napi_value js_code = NULL, message = NULL, err = NULL;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, js_code, message, &err);
  return err;
}

// Throws an Error with `code` unless an exception is already pending (a failed N-API call may have
// left one, which then reaches JS unchanged). Returns NULL, for `return throw_code(...)`.
napi_value throw_code(napi_env env, const char *code, const char *msg) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending) napi_throw(env, code_error(env, code, msg));
  return NULL;
}

// The ENOMEM Error of function `fn` (or whatever a failed N-API call left pending).
napi_value throw_nomem(napi_env env, const char *fn) {
  char msg[96];
  snprintf(msg, sizeof msg, "%s: out of memory", fn);
  return throw_code(env, "ENOMEM", msg);
}

// Rejects a promise with the ENOMEM Error of `fn`, or with the exception a failed N-API call left
// pending (taken, so that it reaches JS through the promise).
void settle_nomem(napi_env env, napi_deferred deferred, const char *fn) {
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
bool new_buffer(napi_env env, size_t len, void **data, napi_value *ab) {
  *data = NULL;
  return napi_create_arraybuffer(env, len, data, ab) == napi_ok && (*data != NULL || len == 0);
}

// A typed array of `n` elements of `size` bytes, copied from src (when n > 0), or false.
bool new_typed(napi_env env, napi_typedarray_type type, size_t n, size_t size, const void *src, napi_value *out) {
  void *data;
  napi_value ab;
  if (!new_buffer(env, n * size, &data, &ab)) return false;
  if (n) memcpy(data, src, n * size);
  return napi_create_typedarray(env, type, n, ab, 0, out) == napi_ok;
}

// An Error for errno `e` with node:fs's `code` and `errno` properties and the given message.
napi_value errno_error(napi_env env, int e, const char *msg) {
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
napi_value throw_errno(napi_env env, int e, const char *syscall, const char *path) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return NULL;
  char msg[4352];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_name(e), uv_strerror(-e), syscall, path);
  napi_throw(env, errno_error(env, e, msg));
  return NULL;
}

// A JS array of `n` values: how the calls below return several results at once.
// NULL (with an exception pending) when one of the values or the array could not be made.
napi_value js_tuple(napi_env env, size_t n, const napi_value *values) {
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
char *get_string(napi_env env, napi_value v, size_t *len_out) {
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
const char *next_name(const char **p, const char *end, size_t *len) {
  const char *nm = *p;
  size_t l = strnlen(nm, (size_t)(end - nm));
  *p = nm + l < end ? nm + l + 1 : end;
  if (len) *len = l;
  return nm;
}

// A file size the JS side gave as a double: 0 unless it is a whole number a size_t holds (a cast of
// anything else is undefined behaviour).
size_t size_of(double v) {
  return v >= 0 && v <= 9007199254740992.0 ? (size_t)v : 0;
}

// Queues `execute` on the thread pool and `complete` back on the JS thread, and returns the promise
// that `complete` settles through *deferred; NULL, with an exception pending and nothing queued,
// when N-API could not (the caller still owns `data`).
napi_value queue_promise(napi_env env, const char *name, napi_async_execute_callback execute,
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

int buf_put(buf_t *b, const char *s, size_t n) {
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
