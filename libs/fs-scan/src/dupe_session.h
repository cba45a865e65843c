// The duplicate pipeline over a scan's arrays: size groups, then sample hashes, then whole-file
// hashes where samples collide, then the groups in report order. The hashes come from the cache
// (the scan's hints) or are set by the caller as it hashes what `dupe_session_missing` lists.
#ifndef FILER_DUPE_SESSION_H
#define FILER_DUPE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { GROUP_OK = 0, GROUP_INCOMPLETE = 1, GROUP_NOMEM = 2 };
enum { SCOPE_SAMPLE = 0, SCOPE_FULL = 1 };

typedef struct {
  const char *paths;   // `count` paths, each ending in NUL
  size_t paths_len;
  const double *meta;  // count × [size, dev, ino, mtimeSec, mtimeNsec]
  const char *hints;   // "sample\0full\0" per path (empty where the cache had none)
  size_t hints_len;
  uint32_t count;
  bool include_empty;
  double whole_up_to;  // a sample of a file this size or smaller covers all of it
  const unsigned char *keep;  // per path, 0 leaves it out (filters applied by the caller); NULL keeps all
} group_input_t;

typedef struct dupe_session dupe_session_t;

// Collapses hard links (one inode is one file, named by its smallest path as JS compares strings;
// the same path twice, as overlapping roots list it, is one name, not a link) and groups the rest
// by size. The input's buffers must outlive the session. NULL when out of memory.
dupe_session_t *dupe_session_new(const group_input_t *in);
void dupe_session_free(dupe_session_t *s);

// The files whose hash of `scope` is still needed, as ascending positions (the scan's order, which
// keeps a directory's files together) in a malloc'd *out: for SCOPE_SAMPLE, the candidates without
// a sample; for SCOPE_FULL (which first splits the candidates by sample), the files larger than
// their sample whose sample another file shares, without a whole hash. Returns the count, or -1 out
// of memory, or -2 (SCOPE_FULL) while a candidate still lacks its sample.
long dupe_session_missing(dupe_session_t *s, int scope, uint32_t **out);

// File i's hash of `scope` (hex, at most 64 characters), computed in this run; a sample that covers
// the whole file is its whole hash too. 0, or -1 out of memory (nothing set: the caller must fail
// the run, the file would otherwise be dropped unreported).
int dupe_session_set(dupe_session_t *s, uint32_t i, int scope, const char *hex, size_t len);
// File i could not be hashed (reported as an error): it is left out of every group.
void dupe_session_fail(dupe_session_t *s, uint32_t i);

// The groups as "size\0hash\0count\0path\0…" (an empty-file group's hash left empty) in the report's
// order (paths as JS sorts strings; most wasted bytes, then size, then first path) in a malloc'd *out,
// and stats = [files (inodes), extra hard links, empty files skipped, candidates, cache hits].
// GROUP_INCOMPLETE when a needed hash is missing: nothing is written.
int dupe_session_groups(dupe_session_t *s, char **out, size_t *out_len, double stats[5]);

// The files given a hash in this run and never failed, ascending, with their hashes (full_len 0 when
// only the sample is known): what the cache should learn. Returns the count or -1 out of memory.
long dupe_session_fresh(const dupe_session_t *s, uint32_t **out);
// File i's path (NUL-terminated) and size as scanned.
void dupe_session_file(const dupe_session_t *s, uint32_t i, const char **path, double *size);
void dupe_session_hashes(const dupe_session_t *s, uint32_t i, const char **sample, size_t *sample_len, const char **full, size_t *full_len);

// The whole grouping at once when every needed hash came from the cache (no hashing possible here):
// GROUP_INCOMPLETE when one is missing.
int group_cached(const group_input_t *in, char **out, size_t *out_len, double stats[4]);

#endif
