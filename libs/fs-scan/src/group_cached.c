// Duplicate groups of a scanned tree whose every candidate's hashes came from the cache: the same
// grouping as the engine's findDuplicates (hard links as one file under their smallest path, sizes
// shared by two or more inodes, split by sample hash, then by whole-file hash where the sample is
// not the whole file), done over the scan's arrays without building an object per file. Any
// candidate whose needed hash is missing makes the answer "incomplete": the engine then runs.

#include "group_cached.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *path, *sample, *full;
  size_t path_len, sample_len, full_len;
  double size, dev, ino;
} item_t;

// Paths compare as JS compares strings (UTF-16 code units) though they are UTF-8 here: byte order
// is code point order, which differs only where a character above U+FFFF (lead byte F0–F4) meets
// one in U+E000–U+FFFF (lead byte EE or EF): in UTF-16 the former's surrogates come first.
static int cmp_js(const char *a, size_t al, const char *b, size_t bl) {
  size_t n = al < bl ? al : bl;
  for (size_t i = 0; i < n; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x == y) continue;
    if (x >= 0xF0 && (y == 0xEE || y == 0xEF)) return -1;
    if (y >= 0xF0 && (x == 0xEE || x == 0xEF)) return 1;
    return x < y ? -1 : 1;
  }
  return al < bl ? -1 : al > bl ? 1 : 0;
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl) {
  size_t n = al < bl ? al : bl;
  int c = memcmp(a, b, n);
  return c ? c : al < bl ? -1 : al > bl ? 1 : 0;
}

// Within one size: by device and inode, so the names of one inode end up side by side.
static int by_inode(const void *pa, const void *pb, void *ctx) {
  const item_t *items = ctx, *a = &items[*(const uint32_t *)pa], *b = &items[*(const uint32_t *)pb];
  if (a->dev != b->dev) return a->dev < b->dev ? -1 : 1;
  if (a->ino != b->ino) return a->ino < b->ino ? -1 : 1;
  return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

// Sorts positions by size, stably: a radix sort of the sizes as integers, skipping digits every size
// shares (the high bytes, mostly). A comparison sort went through memory in random order, which on a
// tree of 50,000 files cost more than all the rest.
static void sort_by_size(uint64_t *key, uint32_t *at, uint64_t *key_tmp, uint32_t *at_tmp, size_t n) {
  uint64_t *k = key, *k2 = key_tmp;
  uint32_t *v = at, *v2 = at_tmp;
  for (int shift = 0; shift < 64 && n > 1; shift += 8) {
    size_t cnt[256] = {0};
    for (size_t i = 0; i < n; i++) cnt[(k[i] >> shift) & 255]++;
    if (cnt[(k[0] >> shift) & 255] == n) continue;
    for (size_t d = 0, sum = 0; d < 256; d++) {
      size_t c = cnt[d];
      cnt[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) {
      size_t d = (k[i] >> shift) & 255;
      k2[cnt[d]] = k[i];
      v2[cnt[d]++] = v[i];
    }
    uint64_t *tk = k;
    k = k2;
    k2 = tk;
    uint32_t *tv = v;
    v = v2;
    v2 = tv;
  }
  if (k != key) {
    memcpy(key, k, n * sizeof *key);
    memcpy(at, v, n * sizeof *at);
  }
}

static int by_sample(const void *pa, const void *pb, void *ctx) {
  const item_t *items = ctx, *a = &items[*(const uint32_t *)pa], *b = &items[*(const uint32_t *)pb];
  int c = cmp_bytes(a->sample, a->sample_len, b->sample, b->sample_len);
  return c ? c : *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

static int by_full(const void *pa, const void *pb, void *ctx) {
  const item_t *items = ctx, *a = &items[*(const uint32_t *)pa], *b = &items[*(const uint32_t *)pb];
  int c = cmp_bytes(a->full, a->full_len, b->full, b->full_len);
  return c ? c : *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

typedef struct {
  char *data;
  size_t len, cap;
  int failed;
} out_t;

static void put(out_t *o, const char *s, size_t n) {
  if (o->failed) return;
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap : 1 << 16;
    while (o->len + n > cap) cap *= 2;
    char *d = realloc(o->data, cap);
    if (!d) {
      o->failed = 1;
      return;
    }
    o->data = d;
    o->cap = cap;
  }
  memcpy(o->data + o->len, s, n);
  o->len += n;
}

static void put_field(out_t *o, const char *s, size_t n) {
  put(o, s, n);
  put(o, "", 1);
}

// A whole number in decimal (sizes are whole and below 2^53): printf's "%.0f" cost more than the grouping.
static void put_number(out_t *o, double v) {
  char tmp[24];
  size_t n = 0;
  uint64_t u = v > 0 ? (uint64_t)v : 0;
  do {
    tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  put_field(o, tmp + sizeof tmp - n, n);
}

// The groups found so far: their members (positions) one after another in `members`.
typedef struct {
  double size;
  const char *hash;
  size_t hash_len, first, n;
} group_t;

typedef struct {
  group_t *g;
  size_t len, cap;
  uint32_t *members;
  size_t mlen, mcap;
  int failed;
} groups_t;

static int by_path(const void *pa, const void *pb, void *ctx) {
  const item_t *items = ctx, *a = &items[*(const uint32_t *)pa], *b = &items[*(const uint32_t *)pb];
  return cmp_js(a->path, a->path_len, b->path, b->path_len);
}

// Makes room for `need` elements of `size` bytes in *data (capacity *cap, doubling from `first`): 0, or -1.
static int reserve(void **data, size_t *cap, size_t need, size_t size, size_t first) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : first;
  while (c < need) c *= 2;
  void *d = realloc(*data, c * size);
  if (!d) return -1;
  *data = d;
  *cap = c;
  return 0;
}

// Records a group, its paths in the report's order (as JS sorts strings).
static void add_group(groups_t *gs, item_t *items, double size, const char *hash, size_t hash_len, const uint32_t *members, size_t n) {
  if (gs->failed) return;
  if (reserve((void **)&gs->g, &gs->cap, gs->len + 1, sizeof *gs->g, 1024) != 0 ||
      reserve((void **)&gs->members, &gs->mcap, gs->mlen + n, sizeof *gs->members, 4096) != 0) {
    gs->failed = 1;
    return;
  }
  memcpy(gs->members + gs->mlen, members, n * sizeof *members);
  qsort_r(gs->members + gs->mlen, n, sizeof *members, by_path, items);
  gs->g[gs->len++] = (group_t){size, hash, hash_len, gs->mlen, n};
  gs->mlen += n;
}

typedef struct {
  const groups_t *gs;
  const item_t *items;
} report_ctx_t;

// The report's order: most wasted bytes first, then larger files, then the first path.
static int by_report_order(const void *pa, const void *pb, void *ctx) {
  const report_ctx_t *c = ctx;
  const group_t *a = pa, *b = pb;
  double wa = a->size * (double)(a->n - 1), wb = b->size * (double)(b->n - 1);
  if (wa != wb) return wa > wb ? -1 : 1;
  if (a->size != b->size) return a->size > b->size ? -1 : 1;
  const item_t *x = &c->items[c->gs->members[a->first]], *y = &c->items[c->gs->members[b->first]];
  return cmp_js(x->path, x->path_len, y->path, y->path_len);
}

// Every group as "size\0hash\0count\0path\0…" (the empty group's hash left empty for the caller), in report order.
static void put_groups(out_t *o, groups_t *gs, const item_t *items) {
  report_ctx_t ctx = {gs, items};
  qsort_r(gs->g, gs->len, sizeof *gs->g, by_report_order, &ctx);
  for (size_t i = 0; i < gs->len; i++) {
    const group_t *g = &gs->g[i];
    put_number(o, g->size);
    put_field(o, g->hash, g->hash_len);
    put_number(o, (double)g->n);
    for (size_t k = 0; k < g->n; k++) put_field(o, items[gs->members[g->first + k]].path, items[gs->members[g->first + k]].path_len);
  }
}

static const char *sample_of(const item_t *it, size_t *n) {
  *n = it->sample_len;
  return it->sample;
}
static const char *full_of(const item_t *it, size_t *n) {
  *n = it->full_len;
  return it->full;
}

int group_cached(const group_input_t *in, char **out_data, size_t *out_len, double stats[4]) {
  uint32_t count = in->count;
  item_t *items = calloc(count ? count : 1, sizeof *items);
  uint32_t *order = malloc((count ? count : 1) * sizeof *order);
  uint32_t *order_tmp = malloc((count ? count : 1) * sizeof *order_tmp);
  uint64_t *sizes = malloc((count ? count : 1) * sizeof *sizes);
  uint64_t *sizes_tmp = malloc((count ? count : 1) * sizeof *sizes_tmp);
  uint32_t *reps = malloc((count ? count : 1) * sizeof *reps);
  uint32_t *sub = malloc((count ? count : 1) * sizeof *sub);
  out_t o = {0};
  groups_t gs = {0};
  int result = GROUP_OK;
  if (!items || !order || !order_tmp || !sizes || !sizes_tmp || !reps || !sub) {
    result = GROUP_NOMEM;
    goto done;
  }
  const char *p = in->paths, *pend = in->paths + in->paths_len;
  const char *h = in->hints, *hend = in->hints + in->hints_len;
  for (uint32_t i = 0; i < count; i++) {
    item_t *it = &items[i];
    it->path = p;
    it->path_len = strnlen(p, (size_t)(pend - p));
    p += it->path_len + 1;
    it->sample = h;
    it->sample_len = strnlen(h, (size_t)(hend - h));
    h += it->sample_len + 1;
    it->full = h;
    it->full_len = h < hend ? strnlen(h, (size_t)(hend - h)) : 0;
    h += it->full_len + 1;
    it->size = in->meta[(size_t)i * 5];
    it->dev = in->meta[(size_t)i * 5 + 1];
    it->ino = in->meta[(size_t)i * 5 + 2];
    sizes[i] = it->size > 0 ? (uint64_t)it->size : 0;
    order[i] = i;
  }
  sort_by_size(sizes, order, sizes_tmp, order_tmp, count);
  double files = 0, links = 0, empty_skipped = 0, candidates = 0;
  for (uint32_t a = 0; a < count && result == GROUP_OK;) {
    // One size: [a, b).
    uint32_t b = a;
    while (b < count && sizes[b] == sizes[a]) b++;
    if (b - a > 1) qsort_r(order + a, b - a, sizeof *order, by_inode, items);
    size_t nreps = 0;
    for (uint32_t k = a; k < b;) {
      uint32_t e = k + 1, best = order[k];
      // Paths are read only for an inode with several names: reading every path cost most of the time.
      while (e < b && items[order[e]].dev == items[order[k]].dev && items[order[e]].ino == items[order[k]].ino) {
        const item_t *x = &items[order[e]], *y = &items[best];
        if (cmp_js(x->path, x->path_len, y->path, y->path_len) < 0) best = order[e];
        e++;
      }
      links += (double)(e - k - 1);
      reps[nreps++] = best;
      k = e;
    }
    files += (double)nreps;
    double size = items[order[a]].size;
    if (size == 0 && !in->include_empty) {
      empty_skipped += (double)nreps;
    } else if (nreps > 1 && size == 0) {
      add_group(&gs, items, 0, "", 0, reps, nreps);
    } else if (nreps > 1) {
      candidates += (double)nreps;
      // By sample: every candidate must have one.
      for (size_t k = 0; k < nreps; k++)
        if (items[reps[k]].sample_len == 0) result = GROUP_INCOMPLETE;
      if (result != GROUP_OK) break;
      if (nreps > 2) qsort_r(reps, nreps, sizeof *reps, by_sample, items);
      for (size_t s = 0; s < nreps;) {
        size_t t = s;
        size_t sl;
        const char *sh = sample_of(&items[reps[s]], &sl);
        while (t < nreps && items[reps[t]].sample_len == sl && memcmp(items[reps[t]].sample, sh, sl) == 0) t++;
        if (t - s > 1) {
          if (size <= in->whole_up_to) {
            add_group(&gs, items, size, sh, sl, reps + s, t - s);
          } else {
            // Samples collide on a file larger than its sample: whole-file hashes decide.
            size_t m = t - s;
            memcpy(sub, reps + s, m * sizeof *sub);
            for (size_t k = 0; k < m; k++)
              if (items[sub[k]].full_len == 0) result = GROUP_INCOMPLETE;
            if (result != GROUP_OK) break;
            qsort_r(sub, m, sizeof *sub, by_full, items);
            for (size_t u = 0; u < m;) {
              size_t v = u, fl;
              const char *fh = full_of(&items[sub[u]], &fl);
              while (v < m && items[sub[v]].full_len == fl && memcmp(items[sub[v]].full, fh, fl) == 0) v++;
              if (v - u > 1) add_group(&gs, items, size, fh, fl, sub + u, v - u);
              u = v;
            }
          }
        }
        s = t;
      }
    }
    a = b;
  }
  if (result == GROUP_OK) put_groups(&o, &gs, items);
  stats[0] = files;
  stats[1] = links;
  stats[2] = empty_skipped;
  stats[3] = candidates;
  if (o.failed || gs.failed) result = GROUP_NOMEM;
done:
  free(gs.g);
  free(gs.members);
  free(items);
  free(order);
  free(order_tmp);
  free(sizes);
  free(sizes_tmp);
  free(reps);
  free(sub);
  if (result != GROUP_OK) {
    free(o.data);
    o.data = NULL;
    o.len = 0;
  }
  *out_data = o.data;
  *out_len = o.len;
  return result;
}
