// The duplicate grouping's building blocks (dupe_groups.h): the orders files and groups are sorted
// in, the groups found, and the groups written out in the report's order.
#include "dupe_groups.h"

#include <stdlib.h>
#include <string.h>

// Paths compare as JS compares strings (UTF-16 code units) though they are UTF-8 here: byte order
// is code point order, which differs only where a character above U+FFFF (lead byte F0–F4) meets
// one in U+E000–U+FFFF (lead byte EE or EF): in UTF-16 the former's surrogates come first.
int cmp_js(const char *a, size_t al, const char *b, size_t bl) {
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
int by_inode(const void *pa, const void *pb, void *ctx) {
  const item_t *items = ctx, *a = &items[*(const uint32_t *)pa], *b = &items[*(const uint32_t *)pb];
  if (a->dev != b->dev) return a->dev < b->dev ? -1 : 1;
  if (a->ino != b->ino) return a->ino < b->ino ? -1 : 1;
  return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

// Sorts positions by size, stably: a radix sort of the sizes as integers, skipping digits every size
// shares (the high bytes, mostly). A comparison sort went through memory in random order, which on a
// tree of 50,000 files cost more than all the rest.
void sort_by_size(uint64_t *key, uint32_t *at, uint64_t *key_tmp, uint32_t *at_tmp, size_t n) {
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

int by_sample(const void *pa, const void *pb, void *ctx) {
  const item_t *items = ctx, *a = &items[*(const uint32_t *)pa], *b = &items[*(const uint32_t *)pb];
  int c = cmp_bytes(a->sample, a->sample_len, b->sample, b->sample_len);
  return c ? c : *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

int by_full(const void *pa, const void *pb, void *ctx) {
  const item_t *items = ctx, *a = &items[*(const uint32_t *)pa], *b = &items[*(const uint32_t *)pb];
  int c = cmp_bytes(a->full, a->full_len, b->full, b->full_len);
  return c ? c : *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

static void put(out_t *o, const char *s, size_t n) {
  if (o->failed || n == 0) return;
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
  uint64_t u = v > 0 && v < 18446744073709551616.0 ? (uint64_t)v : 0;
  do {
    tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  put_field(o, tmp + sizeof tmp - n, n);
}

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
void add_group(groups_t *gs, item_t *items, double size, const char *hash, size_t hash_len, const uint32_t *members, size_t n) {
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
void put_groups(out_t *o, groups_t *gs, const item_t *items) {
  report_ctx_t ctx = {gs, items};
  // (qsort_r of no groups would be passed a NULL array: undefined behaviour, even for 0 elements.)
  if (gs->len > 1) qsort_r(gs->g, gs->len, sizeof *gs->g, by_report_order, &ctx);
  for (size_t i = 0; i < gs->len; i++) {
    const group_t *g = &gs->g[i];
    put_number(o, g->size);
    put_field(o, g->hash, g->hash_len);
    put_number(o, (double)g->n);
    for (size_t k = 0; k < g->n; k++) put_field(o, items[gs->members[g->first + k]].path, items[gs->members[g->first + k]].path_len);
  }
}

const char *sample_of(const item_t *it, size_t *n) {
  *n = it->sample_len;
  return it->sample;
}
const char *full_of(const item_t *it, size_t *n) {
  *n = it->full_len;
  return it->full;
}

