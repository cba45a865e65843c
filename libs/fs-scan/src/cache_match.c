// The hash cache's row format (entries of five NUL-terminated fields: name, identity, stored_at,
// sample, full) and the calls that match files against rows: splitDirs and matchEntries for files
// the walk found, groupCached for a scan whose every needed hash came from the cache.
#include "fs_scan_internal.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include "xxhash.h"

// Formats a whole number the way JS prints it (the cache writes identities with JS templates).
size_t put_uint(char *dst, double v) {
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
size_t identity_text(char *dst, const double *fields) {
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
bool next_entry(const char **q, const char *end, const char *f[5], size_t fl[5]) {
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


// The cache key of directory `dir` (dlen bytes, walked from a root of root_len bytes whose key is
// root_key): the root's key, then what follows the root in `dir`, then '/'. Written to dst when it
// fits in cap bytes with room to spare for a NUL; returns its length, or 0 when it does not fit.
size_t dir_cache_key(char *dst, size_t cap, const char *root_key, size_t root_key_len, size_t root_len, const char *dir, size_t dlen) {
  size_t rel = dlen > root_len ? root_len + (dir[root_len] == '/') : dlen;
  size_t klen = root_key_len + (dlen - rel);
  if (klen + 2 > cap) return 0;
  memcpy(dst, root_key, root_key_len);
  memcpy(dst + root_key_len, dir + rel, dlen - rel);
  if (dlen > rel) dst[klen++] = '/';
  return klen;
}

// --- hash-cache matching: the files asked, against their directories' cache rows ---------------

// splitDirs(pathsJoined, count) -> [unique directories joined by NUL, Int32Array directory of each
// path]: a path's directory is what precedes its last '/' ('.' without one, '' for '/name').
napi_value split_dirs(napi_env env, napi_callback_info info) {
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
napi_value match_entries(napi_env env, napi_callback_info info) {
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
napi_value group_cached_js(napi_env env, napi_callback_info info) {
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
