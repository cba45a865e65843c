// Duplicate groups straight from the scan's arrays when every hash needed came from the cache.
#ifndef FILER_GROUP_CACHED_H
#define FILER_GROUP_CACHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { GROUP_OK = 0, GROUP_INCOMPLETE = 1, GROUP_NOMEM = 2 };

typedef struct {
  const char *paths;   // `count` paths, each ending in NUL
  size_t paths_len;
  const double *meta;  // count × [size, dev, ino, mtimeSec, mtimeNsec]
  const char *hints;   // "sample\0full\0" per path (empty where the cache had none)
  size_t hints_len;
  uint32_t count;
  bool include_empty;
  double whole_up_to;  // a sample of a file this size or smaller covers all of it
} group_input_t;

// Writes the groups ("size\0hash\0count\0path\0…" each; an empty-file group's hash empty) in the
// report's order (paths as JS sorts strings; most wasted bytes, then size, then first path) to a
// malloc'd *out and stats = [files (inodes), extra hard links, empty files skipped, candidates].
// GROUP_INCOMPLETE when a candidate lacks a hash the grouping needs: nothing is written.
int group_cached(const group_input_t *in, char **out, size_t *out_len, double stats[4]);

#endif
