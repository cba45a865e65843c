// The engine's duplicate grouping (findDuplicates: hard links as one file under their smallest path,
// sizes shared by two or more inodes, split by sample hash, then by whole-file hash where the sample
// is not the whole file) over a scan's arrays, without an object per file. Hashes come from the
// cache's hints or from the caller, which hashes what each phase lists as missing.

#include "dupe_session.h"
#include "dupe_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_FRESH = 1, F_FAILED = 2, F_MARK = 4 };

// Room for one fresh hash of each scope per file (hex digests: 32 characters for XXH3-128).
#define HEX_SLOT 64

struct dupe_session {
  item_t *items;
  uint32_t count;
  bool include_empty;
  double whole_up_to;
  unsigned char *flags;
  char *hex;          // count × 2 × HEX_SLOT: hashes set in this run (allocated on the first)
  uint32_t *reps;     // the candidates, one size after another
  size_t *starts;     // size k's candidates are reps[starts[k], starts[k + 1])
  size_t nsizes;
  uint32_t *nf;       // runs of files whose samples collide and do not cover them: whole hashes decide
  size_t *nf_starts;
  size_t nf_runs, nf_len;
  int phase;          // 0: grouped by size; 1: split by sample; 2: split by whole hash
  groups_t gs;
  double files, links, empty_skipped, candidates, cache_hits;
};

void dupe_session_free(dupe_session_t *s) {
  if (!s) return;
  free(s->items);
  free(s->flags);
  free(s->hex);
  free(s->reps);
  free(s->starts);
  free(s->nf);
  free(s->nf_starts);
  free(s->gs.g);
  free(s->gs.members);
  free(s);
}

// Names among one inode's that repeat an earlier one's path (overlapping roots list a file twice).
static uint32_t same_path_repeats(const item_t *items, const uint32_t *names, uint32_t n) {
  uint32_t repeats = 0;
  for (uint32_t j = 1; j < n; j++)
    for (uint32_t i = 0; i < j; i++) {
      const item_t *x = &items[names[i]], *y = &items[names[j]];
      if (x->path_len == y->path_len && memcmp(x->path, y->path, x->path_len) == 0) {
        repeats++;
        break;
      }
    }
  return repeats;
}

dupe_session_t *dupe_session_new(const group_input_t *in) {
  uint32_t count = in->count;
  size_t n = count ? count : 1;
  dupe_session_t *s = calloc(1, sizeof *s);
  uint32_t *order = malloc(n * sizeof *order), *order_tmp = malloc(n * sizeof *order_tmp);
  uint64_t *sizes = malloc(n * sizeof *sizes), *sizes_tmp = malloc(n * sizeof *sizes_tmp);
  if (s) {
    s->items = calloc(n, sizeof *s->items);
    s->flags = calloc(n, 1);
    s->reps = malloc(n * sizeof *s->reps);
    s->starts = malloc((n + 1) * sizeof *s->starts);
    s->nf = malloc(n * sizeof *s->nf);
    s->nf_starts = malloc((n + 1) * sizeof *s->nf_starts);
  }
  if (!s || !order || !order_tmp || !sizes || !sizes_tmp || !s->items || !s->flags || !s->reps || !s->starts || !s->nf ||
      !s->nf_starts) {
    dupe_session_free(s);
    s = NULL;
    goto done;
  }
  s->count = count;
  s->include_empty = in->include_empty;
  s->whole_up_to = in->whole_up_to;
  const char *p = in->paths, *pend = in->paths + in->paths_len;
  const char *h = in->hints, *hend = in->hints + in->hints_len;
  uint32_t kept = 0;
  for (uint32_t i = 0; i < count; i++) {
    item_t *it = &s->items[i];
    // More paths asked than given: the rest are "" (at pend, where the buffer's NUL is).
    it->path = p;
    it->path_len = strnlen(p, (size_t)(pend - p));
    p = p + it->path_len < pend ? p + it->path_len + 1 : pend;
    it->sample = h;
    it->sample_len = h < hend ? strnlen(h, (size_t)(hend - h)) : 0;
    h += it->sample_len + 1;
    it->full = h;
    it->full_len = h < hend ? strnlen(h, (size_t)(hend - h)) : 0;
    h += it->full_len + 1;
    it->size = in->meta[(size_t)i * 5];
    it->dev = in->meta[(size_t)i * 5 + 1];
    it->ino = in->meta[(size_t)i * 5 + 2];
    // Only whole sizes a uint64_t holds are cast (anything else would be undefined behaviour).
    if (in->keep && !in->keep[i]) continue;
    sizes[kept] = it->size > 0 && it->size < 18446744073709551616.0 ? (uint64_t)it->size : 0;
    order[kept++] = i;
  }
  sort_by_size(sizes, order, sizes_tmp, order_tmp, kept);
  item_t *items = s->items;
  size_t nreps = 0;
  s->starts[0] = 0;
  for (uint32_t a = 0; a < kept;) {
    // One size: [a, b).
    uint32_t b = a;
    while (b < kept && sizes[b] == sizes[a]) b++;
    if (b - a > 1) qsort_r(order + a, b - a, sizeof *order, by_inode, items);
    uint32_t *reps = s->reps + nreps;
    size_t k_reps = 0;
    for (uint32_t k = a; k < b;) {
      uint32_t e = k + 1, best = order[k];
      // Paths are read only for an inode with several names: reading every path cost most of the time.
      // On equal paths the earlier position (the earlier root) stays: a directory's files then come
      // from one root's scan, together, for the cache rows (see fresh_rows).
      while (e < b && items[order[e]].dev == items[order[k]].dev && items[order[e]].ino == items[order[k]].ino) {
        const item_t *x = &items[order[e]], *y = &items[best];
        if (cmp_js(x->path, x->path_len, y->path, y->path_len) < 0) best = order[e];
        e++;
      }
      s->links += (double)(e - k - 1 - same_path_repeats(items, order + k, e - k));
      reps[k_reps++] = best;
      k = e;
    }
    s->files += (double)k_reps;
    double size = items[order[a]].size;
    if (size == 0 && !in->include_empty) {
      s->empty_skipped += (double)k_reps;
    } else if (k_reps > 1 && size == 0) {
      add_group(&s->gs, items, 0, "", 0, reps, k_reps);
    } else if (k_reps > 1) {
      s->candidates += (double)k_reps;
      for (size_t k = 0; k < k_reps; k++)
        if (items[reps[k]].sample_len > 0) s->cache_hits++;
      nreps += k_reps;
      s->starts[++s->nsizes] = nreps;
    }
    a = b;
  }
  if (s->gs.failed) {
    dupe_session_free(s);
    s = NULL;
  }
done:
  free(order);
  free(order_tmp);
  free(sizes);
  free(sizes_tmp);
  return s;
}

// The positions whose F_MARK is set, ascending (the marks cleared): a pass over the flags sorts them.
static long take_marked(dupe_session_t *s, size_t marked, uint32_t **out) {
  *out = NULL;
  if (marked == 0) return 0;
  uint32_t *list = malloc(marked * sizeof *list);
  if (!list) {
    for (uint32_t i = 0; i < s->count; i++) s->flags[i] &= (unsigned char)~F_MARK;
    return -1;
  }
  size_t n = 0;
  for (uint32_t i = 0; i < s->count; i++)
    if (s->flags[i] & F_MARK) {
      s->flags[i] &= (unsigned char)~F_MARK;
      list[n++] = i;
    }
  *out = list;
  return (long)n;
}

// Splits each size's live candidates by sample: groups where the sample covers the file, runs for
// whole hashes where it does not. GROUP_INCOMPLETE while a live candidate has no sample.
static int split_by_sample(dupe_session_t *s) {
  item_t *items = s->items;
  for (size_t k = 0; k < s->starts[s->nsizes]; k++)
    if (!(s->flags[s->reps[k]] & F_FAILED) && items[s->reps[k]].sample_len == 0) return GROUP_INCOMPLETE;
  s->nf_runs = 0;
  s->nf_len = 0;
  s->nf_starts[0] = 0;
  for (size_t g = 0; g < s->nsizes; g++) {
    // The live candidates of this size, compacted in place (failed ones are never grouped).
    uint32_t *reps = s->reps + s->starts[g];
    size_t n = 0;
    for (size_t k = s->starts[g]; k < s->starts[g + 1]; k++)
      if (!(s->flags[s->reps[k]] & F_FAILED)) reps[n++] = s->reps[k];
    if (n < 2) continue;
    double size = items[reps[0]].size;
    if (n > 2) qsort_r(reps, n, sizeof *reps, by_sample, items);
    for (size_t a = 0; a < n;) {
      size_t b = a, sl;
      const char *sh = sample_of(&items[reps[a]], &sl);
      while (b < n && items[reps[b]].sample_len == sl && memcmp(items[reps[b]].sample, sh, sl) == 0) b++;
      if (b - a > 1) {
        if (size <= s->whole_up_to) add_group(&s->gs, items, size, sh, sl, reps + a, b - a);
        else {
          memcpy(s->nf + s->nf_len, reps + a, (b - a) * sizeof *reps);
          s->nf_len += b - a;
          s->nf_starts[++s->nf_runs] = s->nf_len;
        }
      }
      a = b;
    }
  }
  s->phase = 1;
  return s->gs.failed ? GROUP_NOMEM : GROUP_OK;
}

// Splits each run of colliding samples by whole hash. GROUP_INCOMPLETE while a live member has none.
static int split_by_full(dupe_session_t *s) {
  item_t *items = s->items;
  for (size_t k = 0; k < s->nf_len; k++)
    if (!(s->flags[s->nf[k]] & F_FAILED) && items[s->nf[k]].full_len == 0) return GROUP_INCOMPLETE;
  for (size_t r = 0; r < s->nf_runs; r++) {
    uint32_t *sub = s->nf + s->nf_starts[r];
    size_t m = 0;
    for (size_t k = s->nf_starts[r]; k < s->nf_starts[r + 1]; k++)
      if (!(s->flags[s->nf[k]] & F_FAILED)) sub[m++] = s->nf[k];
    if (m > 1) qsort_r(sub, m, sizeof *sub, by_full, items);
    for (size_t u = 0; u < m;) {
      size_t v = u, fl;
      const char *fh = full_of(&items[sub[u]], &fl);
      while (v < m && items[sub[v]].full_len == fl && memcmp(items[sub[v]].full, fh, fl) == 0) v++;
      if (v - u > 1) add_group(&s->gs, items, items[sub[u]].size, fh, fl, sub + u, v - u);
      u = v;
    }
  }
  s->phase = 2;
  return s->gs.failed ? GROUP_NOMEM : GROUP_OK;
}

long dupe_session_missing(dupe_session_t *s, int scope, uint32_t **out) {
  *out = NULL;
  size_t marked = 0;
  if (scope == SCOPE_SAMPLE) {
    if (s->phase != 0) return 0;
    for (size_t k = 0; k < s->starts[s->nsizes]; k++) {
      uint32_t i = s->reps[k];
      if (!(s->flags[i] & F_FAILED) && s->items[i].sample_len == 0) {
        s->flags[i] |= F_MARK;
        marked++;
      }
    }
    return take_marked(s, marked, out);
  }
  if (s->phase == 0) {
    int r = split_by_sample(s);
    if (r == GROUP_INCOMPLETE) return -2;
    if (r != GROUP_OK) return -1;
  }
  if (s->phase != 1) return 0;
  for (size_t k = 0; k < s->nf_len; k++) {
    uint32_t i = s->nf[k];
    if (!(s->flags[i] & F_FAILED) && s->items[i].full_len == 0) {
      s->flags[i] |= F_MARK;
      marked++;
    }
  }
  return take_marked(s, marked, out);
}

int dupe_session_set(dupe_session_t *s, uint32_t i, int scope, const char *hex, size_t len) {
  if (i >= s->count || len > HEX_SLOT) return 0;
  if (!s->hex && !(s->hex = malloc((size_t)s->count * 2 * HEX_SLOT))) return -1;
  char *slot = s->hex + ((size_t)i * 2 + (scope == SCOPE_FULL)) * HEX_SLOT;
  memcpy(slot, hex, len);
  item_t *it = &s->items[i];
  if (scope == SCOPE_FULL || it->size <= s->whole_up_to) {
    it->full = slot;
    it->full_len = len;
  }
  if (scope == SCOPE_SAMPLE) {
    it->sample = slot;
    it->sample_len = len;
  }
  s->flags[i] |= F_FRESH;
  return 0;
}

void dupe_session_fail(dupe_session_t *s, uint32_t i) {
  if (i < s->count) s->flags[i] |= F_FAILED;
}

int dupe_session_groups(dupe_session_t *s, char **out_data, size_t *out_len, double stats[5]) {
  *out_data = NULL;
  *out_len = 0;
  int r = GROUP_OK;
  if (s->phase == 0) r = split_by_sample(s);
  if (r == GROUP_OK && s->phase == 1) r = split_by_full(s);
  if (r != GROUP_OK) return r;
  out_t o = {0};
  put_groups(&o, &s->gs, s->items);
  if (o.failed) {
    free(o.data);
    return GROUP_NOMEM;
  }
  *out_data = o.data;
  *out_len = o.len;
  stats[0] = s->files;
  stats[1] = s->links;
  stats[2] = s->empty_skipped;
  stats[3] = s->candidates;
  stats[4] = s->cache_hits;
  return GROUP_OK;
}

long dupe_session_fresh(const dupe_session_t *s, uint32_t **out) {
  size_t n = 0;
  for (uint32_t i = 0; i < s->count; i++)
    if ((s->flags[i] & (F_FRESH | F_FAILED)) == F_FRESH) n++;
  *out = NULL;
  if (n == 0) return 0;
  uint32_t *list = malloc(n * sizeof *list);
  if (!list) return -1;
  n = 0;
  for (uint32_t i = 0; i < s->count; i++)
    if ((s->flags[i] & (F_FRESH | F_FAILED)) == F_FRESH) list[n++] = i;
  *out = list;
  return (long)n;
}

void dupe_session_file(const dupe_session_t *s, uint32_t i, const char **path, double *size) {
  *path = s->items[i].path;
  *size = s->items[i].size;
}

void dupe_session_hashes(const dupe_session_t *s, uint32_t i, const char **sample, size_t *sample_len, const char **full, size_t *full_len) {
  const item_t *it = &s->items[i];
  *sample = it->sample;
  *sample_len = it->sample_len;
  *full = it->full;
  *full_len = it->full_len;
}

int group_cached(const group_input_t *in, char **out_data, size_t *out_len, double stats[4]) {
  *out_data = NULL;
  *out_len = 0;
  dupe_session_t *s = dupe_session_new(in);
  if (!s) return GROUP_NOMEM;
  uint32_t *missing = NULL;
  long n = dupe_session_missing(s, SCOPE_SAMPLE, &missing);
  if (n == 0) n = dupe_session_missing(s, SCOPE_FULL, &missing);
  free(missing);
  int r = n > 0 || n == -2 ? GROUP_INCOMPLETE : n < 0 ? GROUP_NOMEM : GROUP_OK;
  double all[5];
  if (r == GROUP_OK) r = dupe_session_groups(s, out_data, out_len, all);
  if (r == GROUP_OK) memcpy(stats, all, 4 * sizeof *stats);
  dupe_session_free(s);
  return r;
}
