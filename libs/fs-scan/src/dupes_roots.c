// scanDupes over several roots: each root scanned as scanFiles scans one, the scans' buffers joined
// in root order (each root's files keep its span, for the cache keys of their directories), and
// dupesKeep, which regroups a handle's files without those the caller's filters leave out.
#include "fs_scan_internal.h"

#include <stdlib.h>
#include <string.h>

// V8's longest string is about 2^29 characters: the joined paths must still fit in one.
#define ROOTS_MAX_PATH_BYTES ((size_t)1 << 28)

void free_roots(dupes_t *d) {
  for (uint32_t r = 0; r < d->nroots; r++) free(d->roots[r].key);
  free(d->roots);
  d->roots = NULL;
  d->nroots = 0;
}

// ORs the row flags of `src` into `dst` (flags of the same rows).
static void or_hits(napi_env env, napi_value dst, napi_value src) {
  napi_typedarray_type t;
  size_t na = 0, nb = 0, off;
  void *a = NULL, *b = NULL;
  napi_value ab;
  if (napi_get_typedarray_info(env, dst, &t, &na, &a, &ab, &off) != napi_ok ||
      napi_get_typedarray_info(env, src, &t, &nb, &b, &ab, &off) != napi_ok)
    return;
  for (size_t i = 0; i < na && i < nb; i++) ((unsigned char *)a)[i] |= ((unsigned char *)b)[i];
}

static bool scan_each(napi_env env, size_t argc, napi_value *argv, dupes_t *d, const ext_filter_t *exts);

// Joins the parts' buffers into out (the parts are freed). false when out of memory or too large.
static bool join_scans(scan_out_t *parts, uint32_t n, scan_out_t *out, bool *too_large) {
  memset(out, 0, sizeof *out);
  for (uint32_t r = 0; r < n; r++) {
    out->count += parts[r].count;
    out->plen += parts[r].plen;
    out->elen += parts[r].elen;
    out->hlen += parts[r].hlen;
  }
  *too_large = out->plen > ROOTS_MAX_PATH_BYTES || out->hlen > ROOTS_MAX_PATH_BYTES;
  bool ok = !*too_large;
  if (ok) {
    out->paths = malloc(out->plen + 1);
    out->errs = malloc(out->elen + 1);
    out->hints = malloc(out->hlen + 1);
    out->meta = malloc((out->count ? out->count : 1) * SCAN_FIELDS * sizeof(double));
    ok = out->paths && out->errs && out->hints && out->meta;
  }
  size_t pat = 0, eat = 0, hat = 0, fat = 0;
  for (uint32_t r = 0; r < n; r++) {
    scan_out_t *p = &parts[r];
    if (ok) {
      if (p->plen) memcpy(out->paths + pat, p->paths, p->plen);
      if (p->elen) memcpy(out->errs + eat, p->errs, p->elen);
      if (p->hlen) memcpy(out->hints + hat, p->hints, p->hlen);
      if (p->count) memcpy(out->meta + fat, p->meta, p->count * SCAN_FIELDS * sizeof(double));
    }
    pat += p->plen;
    eat += p->elen;
    hat += p->hlen;
    fat += p->count * SCAN_FIELDS;
    free_scan_out(p);
  }
  if (!ok) free_scan_out(out);
  return ok;
}

// The extensions of scanDupes' group argument ([includeEmpty, wholeSampleMax, exts joined by NUL]),
// split in place in *text. false out of memory (nothing to free then).
static bool load_exts(napi_env env, napi_value group, ext_filter_t *f, char **text) {
  memset(f, 0, sizeof *f);
  *text = NULL;
  uint32_t n = 0;
  napi_value v;
  napi_valuetype t = napi_undefined;
  napi_get_array_length(env, group, &n);
  if (n < 3 || napi_get_element(env, group, 2, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_string) return true;
  size_t len = 0;
  if (!(*text = get_string(env, v, &len))) return false;
  if (len == 0) return true;
  uint32_t count = 1;
  for (size_t i = 0; i < len; i++) count += (*text)[i] == 0;
  f->ext = calloc(count, sizeof *f->ext);
  f->len = calloc(count, sizeof *f->len);
  if (!f->ext || !f->len) return false;
  for (const char *p = *text, *end = *text + len; p <= end && f->n < count; p += f->len[f->n++] + 1) {
    f->ext[f->n] = p;
    f->len[f->n] = strnlen(p, (size_t)(end - p));
  }
  return true;
}

bool scan_roots(napi_env env, size_t argc, napi_value *argv, dupes_t *d) {
  ext_filter_t exts;
  char *ext_text = NULL;
  bool loaded = load_exts(env, argv[5], &exts, &ext_text);
  bool ok = loaded && scan_each(env, argc, argv, d, &exts);
  free(exts.ext);
  free(exts.len);
  free(ext_text);
  if (!loaded) throw_nomem(env, "scanDupes");
  return ok;
}

static bool scan_each(napi_env env, size_t argc, napi_value *argv, dupes_t *d, const ext_filter_t *exts) {
  bool many = false;
  napi_is_array(env, argv[0], &many);
  uint32_t n = 1;
  if (many) napi_get_array_length(env, argv[0], &n);
  napi_valuetype cache_type = napi_undefined;
  if (argc >= 5) napi_typeof(env, argv[4], &cache_type);
  if (n == 0) {
    napi_throw_type_error(env, NULL, "scanDupes: no root");
    return false;
  }
  napi_value undef;
  napi_get_undefined(env, &undef);
  scan_out_t *parts = calloc(n, sizeof *parts);
  d->roots = calloc(n, sizeof *d->roots);
  if (!parts || !d->roots) {
    free(parts);
    free(d->roots);
    d->roots = NULL;
    throw_nomem(env, "scanDupes");
    return false;
  }
  d->nroots = n;
  size_t start = 0;
  for (uint32_t r = 0; r < n; r++) {
    napi_value av[5] = {argv[0], argv[1], argv[2], argv[3], cache_type == napi_object ? argv[4] : undef};
    if (many) napi_get_element(env, argv[0], r, &av[0]);
    if (many && cache_type == napi_object) napi_get_element(env, argv[4], r, &av[4]);
    if (!run_scan(env, 5, av, &parts[r], exts)) {
      for (uint32_t q = 0; q < r; q++) free_scan_out(&parts[q]);
      free(parts);
      free_roots(d);
      return false;
    }
    // The span owns the key from here.
    d->roots[r] = (root_span_t){start, parts[r].root_key, parts[r].root_key_len, parts[r].root_len};
    parts[r].root_key = NULL;
    start += parts[r].count;
    if (r > 0) or_hits(env, parts[0].hit, parts[r].hit);
  }
  bool ok = true, too_large = false;
  if (n == 1) d->scan = parts[0];
  else {
    napi_value hit = parts[0].hit;
    ok = join_scans(parts, n, &d->scan, &too_large);
    d->scan.hit = hit;
  }
  free(parts);
  if (!ok) {
    free_roots(d);
    if (too_large) napi_throw_error(env, "E2BIG", "scan: too many paths for one call");
    else throw_nomem(env, "scanDupes");
  }
  return ok;
}

// dupesKeep(handle, keep: Uint8Array, one flag per scanned file) -> undefined: the files are grouped
// again, those flagged 0 left out (filters the scan could not apply). Only before dupesHash.
napi_value dupes_keep(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dupes_t *d = dupes_of(env, argv[0], "dupesKeep");
  if (!d) return NULL;
  napi_typedarray_type t;
  size_t len = 0, off;
  void *keep = NULL;
  napi_value ab;
  if (argc < 2 || napi_get_typedarray_info(env, argv[1], &t, &len, &keep, &ab, &off) != napi_ok || t != napi_uint8_array ||
      len != d->scan.count) {
    napi_throw_type_error(env, NULL, "dupesKeep: expected a Uint8Array with one flag per scanned file");
    return NULL;
  }
  if (d->sampled > 0 || d->fully_hashed > 0) return throw_code(env, "EINVAL", "dupesKeep: files were hashed already");
  scan_out_t *s = &d->scan;
  group_input_t in = {s->paths, s->plen, s->meta, s->hints, s->hlen, (uint32_t)s->count, d->include_empty, d->whole_max, keep};
  dupe_session_t *kept = dupe_session_new(&in);
  if (!kept) return throw_nomem(env, "dupesKeep");
  dupe_session_free(d->session);
  d->session = kept;
  napi_value undef;
  napi_get_undefined(env, &undef);
  return undef;
}
