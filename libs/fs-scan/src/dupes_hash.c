// dupesHash: one hashing phase of a scanDupes handle (samples, or whole files whose samples
// collide), on threads of its own, off the JS thread.
#include "fs_scan_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

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
napi_value dupes_hash(napi_env env, napi_callback_info info) {
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

