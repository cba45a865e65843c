// The duplicate grouping's building blocks, shared by dupe_session.c (internal to the addon).
#ifndef FILER_DUPE_GROUPS_H
#define FILER_DUPE_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// One file of the scan, as the grouping sees it: its path, its hashes (from the cache or this run).
typedef struct {
  const char *path, *sample, *full;
  size_t path_len, sample_len, full_len;
  double size, dev, ino;
} item_t;

// Output bytes; `failed` once memory ran out (everything after is dropped).
typedef struct {
  char *data;
  size_t len, cap;
  int failed;
} out_t;

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

// Paths compare as JS compares strings (UTF-16 code units); see dupe_groups.c.
int cmp_js(const char *a, size_t al, const char *b, size_t bl);
// qsort_r comparators over positions into an item_t array (ctx): by device and inode, by sample
// hash, by whole hash; ties by position.
int by_inode(const void *pa, const void *pb, void *ctx);
int by_sample(const void *pa, const void *pb, void *ctx);
int by_full(const void *pa, const void *pb, void *ctx);
// Sorts positions `at` by `key` (sizes), stably; key_tmp and at_tmp are scratch of n elements.
void sort_by_size(uint64_t *key, uint32_t *at, uint64_t *key_tmp, uint32_t *at_tmp, size_t n);
// Records a group, its paths in the report's order (as JS sorts strings).
void add_group(groups_t *gs, item_t *items, double size, const char *hash, size_t hash_len, const uint32_t *members, size_t n);
// Every group as "size\0hash\0count\0path\0…", in report order.
void put_groups(out_t *o, groups_t *gs, const item_t *items);
const char *sample_of(const item_t *it, size_t *n);
const char *full_of(const item_t *it, size_t *n);

#endif
