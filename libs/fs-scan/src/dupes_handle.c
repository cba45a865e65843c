// scanDupes: the duplicate pipeline over a scan that never leaves native memory. A handle holds the
// scan and its dupe_session; dupesHash (dupes_hash.c) hashes what a phase lacks, dupesResult gives
// the groups and the cache rows to store.
#include "fs_scan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dupes_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  dupes_t *d = data;
  dupe_session_free(d->session);
  free_scan_out(&d->scan);
  free_roots(d);
  free(d);
}

// The dupes_t behind a handle, or NULL with a TypeError (also while a hashing phase runs on it).
dupes_t *dupes_of(napi_env env, napi_value v, const char *fn) {
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

// scanDupes(root | roots, hidden, maxDepth, threads, cache | caches | undefined, [includeEmpty,
// wholeSampleMax]) -> [handle, failures (as scanFiles), Uint8Array hit per row]: scanFiles' scan of
// each root (with several, one cache triple per root), the files grouped by size (hard links
// collapsed, a path listed by two roots counted once) in native memory for dupesHash and dupesResult.
napi_value scan_dupes(napi_env env, napi_callback_info info) {
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
  d->include_empty = include_empty;
  d->whole_max = whole_max;
  if (!scan_roots(env, argc, argv, d)) {
    free(d);
    return NULL;
  }
  scan_out_t *s = &d->scan;
  group_input_t in = {s->paths, s->plen, s->meta, s->hints, s->hlen, (uint32_t)s->count, include_empty, whole_max, NULL};
  d->session = dupe_session_new(&in);
  if (!d->session) {
    free_scan_out(s);
    free_roots(d);
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

// dupesMissing(handle, scope) -> how many files dupesHash would hash for the scope now; -1 for scope 1
// while samples are missing.
napi_value dupes_missing(napi_env env, napi_callback_info info) {
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
napi_value dupes_files(napi_env env, napi_callback_info info) {
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
// …]: one element triple per run of files in one directory of one root (a scan lists a directory's
// files together), entries as the cache stores them (name, identity, stored_at, sample, full).
static napi_value fresh_rows(napi_env env, dupes_t *d, double stored_at, bool *ok) {
  napi_value rows = NULL;
  *ok = napi_create_array(env, &rows) == napi_ok;
  scan_out_t *s = &d->scan;
  if (d->nroots == 0 || !d->roots[0].key || !*ok) return rows;
  uint32_t *list = NULL;
  long n = dupe_session_fresh(d->session, &list);
  if (n < 0) {
    *ok = false;
    return rows;
  }
  // Room for the key of any scanned directory: a root's key and a path shorter than SCAN_PATH_BYTES.
  size_t key_cap = 0, klen = 0;
  for (uint32_t r = 0; r < d->nroots; r++)
    if (d->roots[r].key_len + SCAN_PATH_BYTES + 2 > key_cap) key_cap = d->roots[r].key_len + SCAN_PATH_BYTES + 2;
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
  // The root of file list[k] (positions ascend, so do roots), and the root of the row being built.
  uint32_t root = 0, row_root = 0;
  for (long k = 0; k <= n && *ok; k++) {
    const char *path = NULL;
    size_t plen = 0, slash = 0;
    if (k < n) {
      while (root + 1 < d->nroots && list[k] >= d->roots[root + 1].start) root++;
      double size;
      dupe_session_file(d->session, list[k], &path, &size);
      plen = strlen(path);
      const char *last = memrchr(path, '/', plen);
      slash = last ? (size_t)(last - path) : 0;
    }
    // A new directory (or the end): the finished row goes out.
    if (in_row > 0 && (k == n || root != row_root || slash != dlen || memcmp(path, dir, dlen) != 0)) {
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
      row_root = root;
      const root_span_t *span = &d->roots[root];
      klen = dir_cache_key(key, key_cap, span->key, span->key_len, span->root_len, dir, dlen);
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
napi_value dupes_result(napi_env env, napi_callback_info info) {
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

