// The hash-cache rows handed to a tree scan: loaded from JS once, then looked up by directory key
// and by file name and identity as each directory is listed (tree_scan.c).
#include "fs_scan_internal.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include "xxhash.h"

void free_scan_cache(scan_cache_t *c) {
  free(c->keys);
  free(c->key_len);
  free(c->rows);
  free(c->row_len);
  free(c->slots);
}

// The row of a directory's cache key, or -1.
int32_t cache_row_of(const scan_cache_t *c, const char *key, size_t klen) {
  uint64_t h = XXH3_64bits(key, klen);
  for (size_t k = (size_t)h & (c->cap - 1); c->slots[k] >= 0; k = (k + 1) & (c->cap - 1)) {
    int32_t r = c->slots[k];
    if (c->key_len[r] == klen && memcmp(c->keys[r], key, klen) == 0) return r;
  }
  return -1;
}

// Splits row `r` into the worker's entry list; rows of many entries also get a table by name.
int load_row(row_index_t *w, const char *row, size_t rlen) {
  w->nents = 0;
  const char *q = row, *f[5];
  size_t fl[5];
  while (next_entry(&q, row + rlen, f, fl)) {
    if (w->nents == w->ecap) {
      size_t cap = w->ecap ? w->ecap * 2 : 256;
      row_entry_t *ne = realloc(w->ents, cap * sizeof *ne);
      if (!ne) return -1;
      w->ents = ne;
      w->ecap = cap;
    }
    w->ents[w->nents++] = (row_entry_t){f[0], f[1], f[3], f[4], fl[0], fl[1], fl[3], fl[4]};
  }
  if (w->nents <= 64) return 0;
  size_t cap = 128;
  while (cap < w->nents * 2) cap *= 2;
  if (cap > w->eslot_cap) {
    int32_t *ns = realloc(w->eslots, cap * sizeof *ns);
    if (!ns) return -1;
    w->eslots = ns;
    w->eslot_cap = cap;
  }
  memset(w->eslots, -1, cap * sizeof *w->eslots);
  for (size_t e = 0; e < w->nents; e++) {
    size_t k = (size_t)XXH3_64bits(w->ents[e].name, w->ents[e].name_len) & (cap - 1);
    while (w->eslots[k] >= 0) k = (k + 1) & (cap - 1);
    w->eslots[k] = (int32_t)e;
  }
  return 0;
}

static int entry_is(const row_entry_t *e, const char *name, size_t nlen, const char *id, size_t idlen) {
  return e->name_len == nlen && e->id_len == idlen && memcmp(e->name, name, nlen) == 0 && memcmp(e->id, id, idlen) == 0;
}

// The loaded row's entry for a file with exactly this name and identity, or NULL. `cursor` (the
// entry after the last hit) is tried first: a row is written in the order its directory was walked.
const row_entry_t *find_entry(row_index_t *w, size_t *cursor, const char *name, size_t nlen, const char *id, size_t idlen) {
  const row_entry_t *found = NULL;
  if (*cursor < w->nents && entry_is(&w->ents[*cursor], name, nlen, id, idlen)) found = &w->ents[*cursor];
  else if (w->nents <= 64) {
    for (size_t e = 0; e < w->nents && !found; e++)
      if (entry_is(&w->ents[e], name, nlen, id, idlen)) found = &w->ents[e];
  } else {
    // Every entry of this name: a name written twice is served by whichever matches.
    size_t cap = 128;
    while (cap < w->nents * 2) cap *= 2;
    for (size_t k = (size_t)XXH3_64bits(name, nlen) & (cap - 1); w->eslots[k] >= 0 && !found; k = (k + 1) & (cap - 1))
      if (entry_is(&w->ents[w->eslots[k]], name, nlen, id, idlen)) found = &w->ents[w->eslots[k]];
  }
  if (found) *cursor = (size_t)(found - w->ents) + 1;
  return found;
}

// Reads scanFiles' `cache` argument ([root's key, row keys joined by NUL, row Buffers]) into *cache:
// the rows are read in place, the keys joined in *keys_out (the caller frees it after the scan), and
// *hit_ab gets one byte per row. false with a JS exception pending and nothing left to free but what
// the caller allocated.
bool load_scan_cache(napi_env env, napi_value arg, scan_out_t *out, scan_cache_t *cache, char **keys_out, napi_value *hit_ab) {
  napi_value v_key, v_keys, v_rows;
  napi_get_element(env, arg, 0, &v_key);
  napi_get_element(env, arg, 1, &v_keys);
  napi_get_element(env, arg, 2, &v_rows);
  size_t keys_len = 0;
  out->root_key = get_string(env, v_key, &out->root_key_len);
  char *keys_joined = get_string(env, v_keys, &keys_len);
  napi_get_array_length(env, v_rows, &cache->n);
  if (!out->root_key || !keys_joined) {
    free(out->root_key);
    free(keys_joined);
    out->root_key = NULL;
    napi_throw_type_error(env, NULL, "scan: cache must be [rootKey, keys, rows]");
    return false;
  }
  cache->root_key = out->root_key;
  cache->root_key_len = out->root_key_len;
  cache->root_len = out->root_len;
  cache->cap = 64;
  while (cache->cap < (size_t)cache->n * 2) cache->cap *= 2;
  cache->keys = calloc(cache->n + 1, sizeof *cache->keys);
  cache->key_len = calloc(cache->n + 1, sizeof *cache->key_len);
  cache->rows = calloc(cache->n + 1, sizeof *cache->rows);
  cache->row_len = calloc(cache->n + 1, sizeof *cache->row_len);
  cache->slots = malloc(cache->cap * sizeof *cache->slots);
  void *hit_data = NULL;
  if (!cache->keys || !cache->key_len || !cache->rows || !cache->row_len || !cache->slots || !new_buffer(env, cache->n, &hit_data, hit_ab)) {
    free_scan_cache(cache);
    free(keys_joined);
    free_scan_out(out);
    throw_nomem(env, "scan");
    return false;
  }
  cache->hit = hit_data;
  if (cache->n) memset(cache->hit, 0, cache->n);
  memset(cache->slots, -1, cache->cap * sizeof *cache->slots);
  // Rows are Buffers, read in place while the threads run (this call holds the JS thread).
  const char *k = keys_joined, *kend = keys_joined + keys_len;
  for (uint32_t r = 0; r < cache->n && k <= kend; r++) {
    size_t klen = strnlen(k, (size_t)(kend - k));
    napi_value v;
    bool is_buffer = false;
    napi_get_element(env, v_rows, r, &v);
    napi_is_buffer(env, v, &is_buffer);
    if (is_buffer) {
      void *bytes = NULL;
      napi_get_buffer_info(env, v, &bytes, &cache->row_len[r]);
      cache->rows[r] = bytes;
      cache->keys[r] = k;
      cache->key_len[r] = klen;
      size_t slot = (size_t)XXH3_64bits(k, klen) & (cache->cap - 1);
      while (cache->slots[slot] >= 0) slot = (slot + 1) & (cache->cap - 1);
      cache->slots[slot] = (int32_t)r;
    }
    k += klen + 1;
  }
  *keys_out = keys_joined;
  return true;
}
