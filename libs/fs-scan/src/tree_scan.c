// scanFiles: a whole tree's regular files with their identity, in one call, listed by threads of
// its own; with hash-cache rows, each file is matched in its directory's row as it is listed.
#include "fs_scan_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
  char *path;
  int depth;
} scan_dir_t;

// A path this long or longer (PATH_MAX, its NUL included) can be neither opened nor stat'ed by name,
// here or by any other tool: the scan reports it as ENAMETOOLONG, as the portable walk does, and
// never lists or enters it (the open directory's fstatat could, but nothing after could use it).
#define SCAN_PATH_MAX 4096
// V8's longest string is about 2^29 characters; the paths must fit in one.
#define SCAN_MAX_PATH_BYTES ((size_t)1 << 28)

// Appends "path \0 code \0 message \0" for a failure, worded as node:fs words the portable walk's
// (a directory's readdir, or an entry's lstat). 0, or -1 when there was no memory to record it.
static int scan_error(buf_t *errs, const char *path, int e, int listing) {
  char msg[4352];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_name(e), uv_strerror(-e), listing ? "scandir" : "lstat", path);
  const char *code = errno_name(e);
  return buf_put(errs, path, strlen(path) + 1) || buf_put(errs, code, strlen(code) + 1) || buf_put(errs, msg, strlen(msg) + 1) ? -1 : 0;
}

// The directories still to read, shared by the scanning threads.
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  scan_dir_t *q;
  size_t qlen, qcap;
  int busy;
  int oom;
  bool hidden;
  int max_depth;
  scan_cache_t *cache;
  const ext_filter_t *exts;
} scan_shared_t;

bool ext_keeps(const ext_filter_t *f, const char *nm, size_t nlen) {
  for (uint32_t k = 0; k < f->n; k++) {
    size_t el = f->len[k], i = 0;
    if (el > nlen) continue;
    const unsigned char *p = (const unsigned char *)nm + nlen - el;
    while (i < el && (p[i] >= 'A' && p[i] <= 'Z' ? p[i] | 32 : p[i]) == (unsigned char)f->ext[k][i]) i++;
    if (i == el) return true;
  }
  return false;
}

// What one thread found: its files' paths and fields, and its failures.
typedef struct {
  scan_shared_t *sh;
  buf_t paths, errs;
  double *stats;
  size_t count, scap;
  // With cache rows: "sample\0full\0" per file (both empty on a miss), and the current row's entries.
  buf_t hints;
  row_index_t row;
} scan_worker_t;

// Lists one directory: regular files go to the worker's results, subdirectories to `subdirs`.
static int scan_one(scan_worker_t *w, scan_dir_t dir, scan_dir_t **subdirs, size_t *nsub, size_t *subcap) {
  int fd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    int e = errno;
    if (fd >= 0) close(fd);
    return scan_error(&w->errs, dir.path, e, 1);
  }
  char child[SCAN_PATH_BYTES];
  size_t dlen = strlen(dir.path);
  int slash = dlen > 0 && dir.path[dlen - 1] == '/';
  scan_cache_t *cache = w->sh->cache;
  int32_t row = -1;
  size_t cursor = 0;
  if (cache) {
    size_t klen = dir_cache_key(child, sizeof child, cache->root_key, cache->root_key_len, cache->root_len, dir.path, dlen);
    if (klen > 0) {
      row = cache_row_of(cache, child, klen);
      if (row >= 0 && load_row(&w->row, cache->rows[row], cache->row_len[row]) != 0) {
        closedir(d);
        return -1;
      }
    }
  }
  for (;;) {
    // errno is read only when readdir itself says it failed (see list_dir).
    errno = 0;
    struct dirent *ent = readdir(d);
    if (!ent) {
      int e = errno;
      if (e != 0 && scan_error(&w->errs, dir.path, e, 1) != 0) goto oom;
      break;
    }
    const char *nm = ent->d_name;
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
    if (!w->sh->hidden && nm[0] == '.') continue;
    if (nm[0] == '.' && strcmp(nm, FILER_QUARANTINE_NAME) == 0) continue;
    size_t nlen = strlen(nm);
    // A file the extension filter rejects is never stat'ed (nor reported, as the JS filter drops it).
    if (ent->d_type == DT_REG && w->sh->exts && !ext_keeps(w->sh->exts, nm, nlen)) continue;
    if (dlen + 1 + nlen + 1 > SCAN_PATH_MAX) {
      // Too long to use (see SCAN_PATH_MAX): a file or a directory the walk would enter is
      // reported under its whole name, as the portable walk's lstat or readdir reports it.
      unsigned char t = ent->d_type;
      struct stat st;
      if (t == DT_UNKNOWN) t = fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) != 0 ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
      if (t != DT_REG && t != DT_DIR) continue;
      if (t == DT_DIR && w->sh->max_depth >= 0 && dir.depth + 1 >= w->sh->max_depth) continue;
      char *longer = malloc(dlen + nlen + 2);
      if (!longer) goto oom;
      snprintf(longer, dlen + nlen + 2, "%s%s%s", dir.path, slash ? "" : "/", nm);
      int failed = scan_error(&w->errs, longer, ENAMETOOLONG, t == DT_DIR);
      free(longer);
      if (failed) goto oom;
      continue;
    }
    memcpy(child, dir.path, dlen);
    size_t clen = dlen;
    if (!slash) child[clen++] = '/';
    memcpy(child + clen, nm, nlen + 1);
    clen += nlen;
    unsigned char t = ent->d_type;
    struct stat st;
    if (t == DT_REG || t == DT_UNKNOWN) {
      if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (scan_error(&w->errs, child, errno, 0) != 0) goto oom;
        continue;
      }
      if (S_ISDIR(st.st_mode)) t = DT_DIR;
      else if (S_ISREG(st.st_mode)) t = DT_REG;
      else continue;
    }
    if (t == DT_DIR) {
      if (w->sh->max_depth >= 0 && dir.depth + 1 >= w->sh->max_depth) continue;
      if (*nsub == *subcap) {
        size_t cap = *subcap ? *subcap * 2 : 16;
        scan_dir_t *ns = realloc(*subdirs, cap * sizeof **subdirs);
        if (!ns) goto oom;
        *subdirs = ns;
        *subcap = cap;
      }
      char *cp = malloc(clen + 1);
      if (!cp) goto oom;
      memcpy(cp, child, clen + 1);
      (*subdirs)[(*nsub)++] = (scan_dir_t){cp, dir.depth + 1};
      continue;
    }
    if (t != DT_REG) continue;
    if (w->count == w->scap) {
      size_t cap = w->scap ? w->scap * 2 : 4096;
      double *ns = realloc(w->stats, cap * SCAN_FIELDS * sizeof *w->stats);
      if (!ns) goto oom;
      w->stats = ns;
      w->scap = cap;
    }
    double *o = w->stats + w->count * SCAN_FIELDS;
    o[0] = (double)st.st_size;
    o[1] = (double)st.st_dev;
    o[2] = (double)st.st_ino;
    o[3] = (double)st.st_mtim.tv_sec;
    o[4] = (double)st.st_mtim.tv_nsec;
    if (buf_put(&w->paths, child, clen + 1) != 0) goto oom;
    w->count++;
    if (cache) {
      const row_entry_t *e = NULL;
      if (row >= 0) {
        char id[128];
        size_t idlen = identity_text(id, o);
        if (idlen > 0) e = find_entry(&w->row, &cursor, nm, nlen, id, idlen);
      }
      if (e) {
        cache->hit[row] = 1;
        if (buf_put(&w->hints, e->sample, e->sample_len) || buf_put(&w->hints, "", 1) || buf_put(&w->hints, e->full, e->full_len) ||
            buf_put(&w->hints, "", 1))
          goto oom;
      } else if (buf_put(&w->hints, "\0\0", 2) != 0) goto oom;
    }
  }
  closedir(d);
  return 0;
oom:
  closedir(d);
  return -1;
}

static void free_scan_workers(scan_worker_t *workers, int n) {
  for (int i = 0; i < n; i++) {
    free(workers[i].paths.data);
    free(workers[i].errs.data);
    free(workers[i].stats);
    free(workers[i].hints.data);
    free(workers[i].row.ents);
    free(workers[i].row.eslots);
  }
}

// A scanning thread: takes a directory, lists it, queues its subdirectories; stops when the queue
// is empty and no thread is still listing (which could queue more).
static void *scan_worker(void *arg) {
  scan_worker_t *w = arg;
  scan_shared_t *sh = w->sh;
  scan_dir_t *subdirs = NULL;
  size_t subcap = 0;
  pthread_mutex_lock(&sh->mu);
  for (;;) {
    while (sh->qlen == 0 && sh->busy > 0 && !sh->oom) pthread_cond_wait(&sh->cv, &sh->mu);
    if (sh->qlen == 0 || sh->oom) break;
    scan_dir_t dir = sh->q[--sh->qlen];
    sh->busy++;
    pthread_mutex_unlock(&sh->mu);
    size_t nsub = 0;
    // At the depth limit a directory's children would be too deep: nothing to list.
    int failed = sh->max_depth >= 0 && dir.depth >= sh->max_depth ? 0 : scan_one(w, dir, &subdirs, &nsub, &subcap);
    free(dir.path);
    pthread_mutex_lock(&sh->mu);
    sh->busy--;
    if (failed) sh->oom = 1;
    if (sh->qlen + nsub > sh->qcap) {
      size_t cap = sh->qcap;
      while (sh->qlen + nsub > cap) cap *= 2;
      scan_dir_t *nq = realloc(sh->q, cap * sizeof *sh->q);
      if (!nq) sh->oom = 1;
      else {
        sh->q = nq;
        sh->qcap = cap;
      }
    }
    // Pushed in reverse so the first listed is read next, as the portable walker's stack does.
    for (size_t i = nsub; i-- > 0;) {
      if (sh->oom) free(subdirs[i].path);
      else sh->q[sh->qlen++] = subdirs[i];
    }
    pthread_cond_broadcast(&sh->cv);
  }
  pthread_cond_broadcast(&sh->cv);
  pthread_mutex_unlock(&sh->mu);
  free(subdirs);
  return NULL;
}

// What one scan found, its threads' buffers joined: paths (each ending in NUL), count × SCAN_FIELDS
// fields, failures, and with cache rows the hints ("sample\0full\0" per file), the flags of the rows
void free_scan_out(scan_out_t *o) {
  free(o->paths);
  free(o->errs);
  free(o->hints);
  free(o->meta);
  free(o->root_key);
}

// Runs a scan for scanFiles and scanDupes, whose first five arguments it reads: root, hidden,
// maxDepth, threads and the optional cache ([root's key, row keys joined by NUL, row Buffers]).
// false with a JS exception pending.
bool run_scan(napi_env env, size_t argc, napi_value *argv, scan_out_t *out, const ext_filter_t *exts) {
  memset(out, 0, sizeof *out);
  char *root = get_string(env, argv[0], &out->root_len);
  scan_shared_t sh = {.busy = 0, .oom = 0, .hidden = false, .max_depth = -1, .cache = NULL, .exts = exts && exts->n ? exts : NULL};
  int32_t threads = 1;
  napi_get_value_bool(env, argv[1], &sh.hidden);
  napi_get_value_int32(env, argv[2], &sh.max_depth);
  napi_get_value_int32(env, argv[3], &threads);
  if (!root) {
    napi_throw_type_error(env, NULL, "scan: root must be a string");
    return false;
  }
  scan_cache_t cache = {0};
  char *keys_joined = NULL;
  napi_value hit_ab = NULL;
  napi_valuetype cache_type = napi_undefined;
  if (argc >= 5) napi_typeof(env, argv[4], &cache_type);
  if (cache_type == napi_object) {
    if (!load_scan_cache(env, argv[4], out, &cache, &keys_joined, &hit_ab)) {
      free(root);
      return false;
    }
    sh.cache = &cache;
  }
  if (threads < 1) threads = 1;
  if (threads > 16) threads = 16;
  pthread_mutex_init(&sh.mu, NULL);
  pthread_cond_init(&sh.cv, NULL);
  sh.qcap = 64;
  sh.q = malloc(sh.qcap * sizeof *sh.q);
  if (sh.q) sh.q[sh.qlen++] = (scan_dir_t){root, 0};
  else {
    free(root);
    sh.oom = 1;
  }
  scan_worker_t workers[16];
  pthread_t tids[16];
  memset(workers, 0, sizeof workers);
  // Workers 1..started run on threads of their own (a thread that could not start leaves no gap).
  int started = 0;
  for (int i = 0; i < threads; i++) workers[i].sh = &sh;
  for (int i = 1; i < threads && sh.q; i++)
    if (pthread_create(&tids[started + 1], NULL, scan_worker, &workers[started + 1]) == 0) started++;
  if (sh.q) scan_worker(&workers[0]);
  for (int i = 1; i <= started; i++) pthread_join(tids[i], NULL);
  while (sh.qlen > 0) free(sh.q[--sh.qlen].path);
  free(sh.q);
  pthread_mutex_destroy(&sh.mu);
  pthread_cond_destroy(&sh.cv);
  free_scan_cache(&cache);
  free(keys_joined);

  for (int i = 0; i <= started; i++) {
    out->count += workers[i].count;
    out->plen += workers[i].paths.len;
    out->elen += workers[i].errs.len;
    out->hlen += workers[i].hints.len;
  }
  // Beyond this the joined paths would not fit in one JS string: the caller walks portably instead.
  if (!sh.oom && (out->plen > SCAN_MAX_PATH_BYTES || out->hlen > SCAN_MAX_PATH_BYTES)) {
    free_scan_workers(workers, started + 1);
    free_scan_out(out);
    napi_throw_error(env, "E2BIG", "scan: too many paths for one call");
    return false;
  }
  // The threads' paths, fields, failures and hints, each joined into one buffer.
  if (!sh.oom) {
    out->paths = malloc(out->plen + 1);
    out->errs = malloc(out->elen + 1);
    out->hints = malloc(out->hlen + 1);
    out->meta = malloc((out->count ? out->count : 1) * SCAN_FIELDS * sizeof(double));
  }
  if (sh.oom || !out->paths || !out->errs || !out->hints || !out->meta) {
    free_scan_workers(workers, started + 1);
    free_scan_out(out);
    napi_throw_error(env, "ENOMEM", "scan: out of memory");
    return false;
  }
  size_t pat = 0, eat = 0, hat = 0, fat = 0;
  for (int i = 0; i <= started; i++) {
    if (workers[i].paths.len) memcpy(out->paths + pat, workers[i].paths.data, workers[i].paths.len);
    if (workers[i].errs.len) memcpy(out->errs + eat, workers[i].errs.data, workers[i].errs.len);
    if (workers[i].hints.len) memcpy(out->hints + hat, workers[i].hints.data, workers[i].hints.len);
    if (workers[i].count) memcpy(out->meta + fat, workers[i].stats, workers[i].count * SCAN_FIELDS * sizeof(double));
    pat += workers[i].paths.len;
    eat += workers[i].errs.len;
    hat += workers[i].hints.len;
    fat += workers[i].count * SCAN_FIELDS;
  }
  free_scan_workers(workers, started + 1);
  void *none;
  if (!hit_ab && !new_buffer(env, 0, &none, &hit_ab)) hit_ab = NULL;
  if (!hit_ab || napi_create_typedarray(env, napi_uint8_array, hit_ab ? cache.n : 0, hit_ab, 0, &out->hit) != napi_ok) {
    free_scan_out(out);
    throw_nomem(env, "scan");
    return false;
  }
  return true;
}

// scanFiles(root, hidden, maxDepth, threads[, cache]) -> [paths joined by NUL, Float64Array count ×
// [size, dev, ino, mtimeSec, mtimeNsec], failures as path\0code\0message\0 triples, hints, Uint8Array
// hit per row]. Symlinks are neither followed nor reported (they are not regular files); maxDepth < 0
// is no limit. With several threads the order of the files is not fixed. `cache` = [root's key, row
// keys joined by NUL, rows (Buffers, entries as matchEntries reads them)]: each file is matched in its
// directory's row as it is listed, and hints holds "sample\0full\0" per file, both empty on a miss
// ('' and an empty array without `cache`).
napi_value scan_files(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  scan_out_t s;
  if (!run_scan(env, argc, argv, &s, NULL)) return NULL;
  napi_value js_paths = NULL, js_stats = NULL, js_errs = NULL, js_hints = NULL;
  // The last path's NUL is not part of the joined string.
  bool ok = new_typed(env, napi_float64_array, s.count * SCAN_FIELDS, sizeof(double), s.meta, &js_stats) &&
            napi_create_string_utf8(env, s.errs, s.elen, &js_errs) == napi_ok &&
            napi_create_string_utf8(env, s.paths, s.plen == 0 ? 0 : s.plen - 1, &js_paths) == napi_ok &&
            napi_create_string_utf8(env, s.hints, s.hlen, &js_hints) == napi_ok;
  free_scan_out(&s);
  if (!ok) return throw_nomem(env, "scanFiles");
  return js_tuple(env, 5, (napi_value[]){js_paths, js_stats, js_errs, js_hints, s.hit});
}

