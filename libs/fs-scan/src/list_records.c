// listRecords: one directory's regular files that pass the simple filters of `filer find` (name
// extensions, size and mtime bounds), as the records find prints for them (ndjson, paths or csv),
// in one call: the directory is opened once, listed, the files the output or a bound needs
// fstatat()'ed relative to it, and each record formatted here, so the walker handles no object,
// Date or JSON per file and never sees a file the filters drop. The bytes are those the JS
// formatter (libs/engine/src/output/find-format.ts) makes for the same entry, and a file passes
// exactly when compileFilter's predicates pass it; whatever JS would treat differently (a matching
// name that is not valid UTF-8, an mtime outside years 1000–9999, an entry of unknown type, an
// ignore file in the directory) makes the call answer null and the walker take its general path
// for that directory.
#include "fs_scan_internal.h"
#include "record_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// A path this long (its NUL included) cannot be stat'ed by name: reported as ENAMETOOLONG, as the
// portable walk's lstat reports it, although fstatat relative to the open directory could.
#define RECORDS_PATH_MAX 4096

// The record formats, as listRecords' `format` argument numbers them.
// FMT_NDJSON_NOSTAT: find's ndjson record of a file the walk did not stat (size and mtime null, as
// entryToJson writes them), for a cluster `paths` job whose parts are ndjson; stat'ed for a bound, it
// is FMT_NDJSON's record, as the JS walk's entry then carries size and mtime.
enum { FMT_NDJSON = 0, FMT_PATHS = 1, FMT_PATHS0 = 2, FMT_CSV = 3, FMT_NDJSON_NOSTAT = 4 };

// What a directory is listed for: the format, and the filters (compileFilter's, for files).
typedef struct {
  int format;
  bool hidden, want_dirs, stat;
  ext_filter_t exts;          // n == 0: every extension
  double min_size, max_size;  // inclusive; ±Infinity when unset
  double newer_ms, older_ms;  // exclusive; ±Infinity when unset
  const char *ignore;         // ignore-file names joined by NUL (any present: general path)
  size_t ignore_len;
} query_t;

static int reserve(buf_t *b, size_t n) {
  if (b->len + n <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 1 << 14;
  while (b->len + n > cap) cap *= 2;
  char *d = realloc(b->data, cap);
  if (!d) return -1;
  b->data = d;
  b->cap = cap;
  return 0;
}

typedef struct {
  buf_t recs, dirs, errs;
  size_t count, entries;
  double bytes;
  bool ascii;
} records_out_t;

// Each walker thread calls once per directory: its buffers are kept between calls (no malloc per
// directory), given back after a directory that needed more than KEEP_BYTES, and freed when the
// thread ends (a pthread key's destructor: worker threads come and go in a long-lived process).
typedef struct {
  buf_t recs, dirs, errs;
} records_bufs_t;
#define KEEP_BYTES ((size_t)1 << 20)

static pthread_key_t bufs_key;
static pthread_once_t bufs_once = PTHREAD_ONCE_INIT;
static int bufs_key_err;

static void free_bufs(void *p) {
  records_bufs_t *b = p;
  free(b->recs.data);
  free(b->dirs.data);
  free(b->errs.data);
  free(b);
}

static void make_bufs_key(void) { bufs_key_err = pthread_key_create(&bufs_key, free_bufs); }

// This thread's buffers, or NULL out of memory.
static records_bufs_t *thread_bufs(void) {
  if (pthread_once(&bufs_once, make_bufs_key) != 0 || bufs_key_err) return NULL;
  records_bufs_t *b = pthread_getspecific(bufs_key);
  if (!b && (b = calloc(1, sizeof *b)) != NULL && pthread_setspecific(bufs_key, b) != 0) {
    free(b);
    b = NULL;
  }
  return b;
}

static void keep_or_free(buf_t *kept, buf_t *used) {
  if (used->cap > KEEP_BYTES) {
    free(used->data);
    *used = (buf_t){0};
  }
  used->len = 0;
  *kept = *used;
}

static const char REC_START[] = "{\"path\":\"";
static const char REC_MID[] = "\",\"type\":\"file\",\"size\":";
static const char REC_MTIME[] = ",\"mtime\":\"";
static const char REC_NOSTAT_END[] = "\",\"type\":\"file\",\"size\":null,\"mtime\":null}\n";

// The directory part of every record (see prefix_of): the dir, escaped as the format needs.
typedef struct {
  const char *dir;
  size_t dir_len;
  char *text;
  size_t len;
  bool csv_quote; // csv: the directory holds a character that makes every path quoted
} prefix_t;

static bool csv_special(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '"' || s[i] == ',' || s[i] == '\r' || s[i] == '\n') return true;
  return false;
}

// Appends s[0..n) with every '"' doubled (csvField's escape).
static size_t csv_escape(char *dst, const char *s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') dst[o++] = '"';
    dst[o++] = s[i];
  }
  return o;
}

// Formats one file's record: 0, 1 to give the directory to the general path, -1 out of memory.
static int put_record(records_out_t *o, const query_t *q, const prefix_t *px, const char *nm, size_t l, const struct stat *st) {
  if (reserve(&o->recs, 2 * px->dir_len + px->len + 6 * l + sizeof REC_MID + sizeof REC_MTIME + 64)) return -1;
  char *p = o->recs.data + o->recs.len;
  char *start = p;
  if (q->format == FMT_PATHS || q->format == FMT_PATHS0) {
    memcpy(p, px->text, px->len);
    p += px->len;
    memcpy(p, nm, l);
    p += l;
    *p++ = q->format == FMT_PATHS ? '\n' : '\0';
  } else if (q->format == FMT_CSV) {
    size_t iso_at;
    if (px->csv_quote || csv_special(nm, l)) {
      *p++ = '"';
      p += csv_escape(p, px->dir, px->dir_len);
      if (px->len > px->dir_len) *p++ = '/';
      p += csv_escape(p, nm, l);
      *p++ = '"';
    } else {
      memcpy(p, px->text, px->len);
      p += px->len;
      memcpy(p, nm, l);
      p += l;
    }
    memcpy(p, ",file,", 6);
    p += 6;
    p += put_digits(p, (uint64_t)st->st_size, 1);
    *p++ = ',';
    iso_at = iso_time(p, &st->st_mtim);
    if (iso_at == 0) return 1;
    p += iso_at;
    *p++ = '\n';
  } else if (!q->stat) { // FMT_NDJSON_NOSTAT without a bound
    memcpy(p, px->text, px->len);
    p += px->len;
    p += json_escape(p, nm, l);
    memcpy(p, REC_NOSTAT_END, sizeof REC_NOSTAT_END - 1);
    p += sizeof REC_NOSTAT_END - 1;
  } else {
    memcpy(p, px->text, px->len);
    p += px->len;
    p += json_escape(p, nm, l);
    memcpy(p, REC_MID, sizeof REC_MID - 1);
    p += sizeof REC_MID - 1;
    p += put_digits(p, (uint64_t)st->st_size, 1);
    memcpy(p, REC_MTIME, sizeof REC_MTIME - 1);
    p += sizeof REC_MTIME - 1;
    size_t iso = iso_time(p, &st->st_mtim);
    if (iso == 0) return 1;
    p += iso;
    memcpy(p, "\"}\n", 3);
    p += 3;
  }
  o->recs.len += (size_t)(p - start);
  o->count++;
  if (q->stat) o->bytes += (double)st->st_size;
  return 0;
}

static bool is_ignore_file(const query_t *q, const char *nm, size_t l) {
  for (const char *p = q->ignore, *end = q->ignore + q->ignore_len; p < end;) {
    size_t il = strnlen(p, (size_t)(end - p));
    if (il == l && memcmp(p, nm, l) == 0) return true;
    p += il + 1;
  }
  return false;
}

// Whether a stat'ed file passes the size and mtime bounds (compileFilter's size and time tests).
static bool in_bounds(const query_t *q, const struct stat *st) {
  double size = (double)st->st_size, ms = mtime_ms(&st->st_mtim);
  return size >= q->min_size && size <= q->max_size && ms > q->newer_ms && ms < q->older_ms;
}

// Lists `d` into `o`: 0, 1 for the general path, -1 out of memory, or an errno from readdir.
static int list_into(DIR *d, const query_t *q, const prefix_t *px, records_out_t *o) {
  int dfd = dirfd(d);
  for (;;) {
    errno = 0;
    struct dirent *ent = readdir(d);
    if (!ent) return errno;
    const char *nm = ent->d_name;
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
    o->entries++;
    size_t l = strlen(nm);
    // The walk reads ignore files whatever --hidden says: a directory holding one is the general path's.
    if (q->ignore_len > 0 && is_ignore_file(q, nm, l)) return 1;
    if (nm[0] == '.' && !q->hidden) continue;
    if (nm[0] == '.' && strcmp(nm, FILER_QUARANTINE_NAME) == 0) continue;
    if (ent->d_type == DT_UNKNOWN) return 1;
    if (ent->d_type == DT_DIR) {
      if (q->want_dirs && buf_put(&o->dirs, nm, l + 1)) return -1;
      continue;
    }
    if (ent->d_type != DT_REG) continue;
    // Byte for byte what the JS test does on the decoded name: its ASCII suffix is the same bytes.
    if (q->exts.n > 0 && !ext_keeps(&q->exts, nm, l)) continue;
    if (!valid_utf8((const unsigned char *)nm, l, &o->ascii)) return 1;
    struct stat st = {0};
    if (q->stat) {
      int err = 0;
      if (px->dir_len + 1 + l + 1 > RECORDS_PATH_MAX) err = ENAMETOOLONG;
      else if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0) err = errno;
      if (err) {
        char code[16];
        int cl = snprintf(code, sizeof code, "%d", err);
        if (buf_put(&o->errs, nm, l + 1) || buf_put(&o->errs, code, (size_t)cl + 1)) return -1;
        continue;
      }
      if (!in_bounds(q, &st)) continue;
    }
    int r = put_record(o, q, px, nm, l, &st);
    if (r) return r;
  }
}

// The records' common start: the directory (JSON-escaped after `{"path":"` for ndjson) and its
// slash, unless it ends in one (childPath's join). false out of memory.
static bool prefix_of(const query_t *q, const char *dir, size_t dir_len, prefix_t *px, bool *ascii) {
  *px = (prefix_t){.dir = dir, .dir_len = dir_len};
  px->text = malloc(sizeof REC_START + 6 * dir_len + 1);
  if (!px->text) return false;
  valid_utf8((const unsigned char *)dir, dir_len, ascii);
  if (q->format == FMT_NDJSON || q->format == FMT_NDJSON_NOSTAT) {
    memcpy(px->text, REC_START, sizeof REC_START - 1);
    px->len = sizeof REC_START - 1;
    px->len += json_escape(px->text + px->len, dir, dir_len);
  } else {
    memcpy(px->text, dir, dir_len);
    px->len = dir_len;
    px->csv_quote = q->format == FMT_CSV && csv_special(dir, dir_len);
  }
  if (dir_len == 0 || dir[dir_len - 1] != '/') px->text[px->len++] = '/';
  return true;
}

static bool new_string(napi_env env, const buf_t *b, bool ascii, napi_value *out) {
  const char *s = b->data ? b->data : "";
  return (ascii ? napi_create_string_latin1(env, s, b->len, out) : napi_create_string_utf8(env, s, b->len, out)) == napi_ok;
}

// Splits extensions joined by NUL (each with its dot) in place; false out of memory.
static bool split_exts(char *text, size_t len, ext_filter_t *f) {
  *f = (ext_filter_t){0};
  if (len == 0) return true;
  uint32_t count = 1;
  for (size_t i = 0; i < len; i++) count += text[i] == 0;
  f->ext = calloc(count, sizeof *f->ext);
  f->len = calloc(count, sizeof *f->len);
  if (!f->ext || !f->len) return false;
  for (const char *p = text, *end = text + len; p <= end && f->n < count; p += f->len[f->n++] + 1) {
    f->ext[f->n] = p;
    f->len[f->n] = strlen(p);
  }
  return true;
}

// Reads listRecords' arguments after the directory into q (strings it allocates in *exts_text and
// *ignore_text); false with a TypeError thrown or out of memory.
static bool read_query(napi_env env, size_t argc, napi_value *argv, query_t *q, char **exts_text, char **ignore_text) {
  *q = (query_t){.format = FMT_NDJSON, .stat = true, .min_size = -INFINITY, .max_size = INFINITY, .newer_ms = -INFINITY, .older_ms = INFINITY, .ignore = ""};
  if (napi_get_value_bool(env, argv[1], &q->hidden) != napi_ok || napi_get_value_bool(env, argv[2], &q->want_dirs) != napi_ok)
    return false;
  if (argc < 7) return true;
  int32_t format;
  size_t exts_len = 0, bounds_n = 0;
  void *bounds_data = NULL;
  napi_typedarray_type tt;
  if (napi_get_value_int32(env, argv[3], &format) != napi_ok || format < FMT_NDJSON || format > FMT_NDJSON_NOSTAT) return false;
  if (napi_get_typedarray_info(env, argv[5], &tt, &bounds_n, &bounds_data, NULL, NULL) != napi_ok || tt != napi_float64_array ||
      bounds_n != 4)
    return false;
  if (!(*exts_text = get_string(env, argv[4], &exts_len)) || !(*ignore_text = get_string(env, argv[6], &q->ignore_len))) return false;
  const double *b = bounds_data;
  q->format = format;
  q->min_size = b[0];
  q->max_size = b[1];
  q->newer_ms = b[2];
  q->older_ms = b[3];
  q->ignore = *ignore_text;
  // Paths (and unstat'ed ndjson) need a stat only for a bound to test; the other formats print size and mtime.
  q->stat = format == FMT_NDJSON || format == FMT_CSV || isfinite(b[0]) || isfinite(b[1]) || isfinite(b[2]) || isfinite(b[3]);
  if (!split_exts(*exts_text, exts_len, &q->exts)) {
    throw_nomem(env, "listRecords");
    return false;
  }
  return true;
}

// listRecords(dir, hidden, wantDirs[, format, exts, bounds, ignoreNames])
//   -> [records, count, bytes, entries, subdirs, failures] or null
napi_value list_records(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t dir_len = 0;
  char *dir = argc >= 3 ? get_string(env, argv[0], &dir_len) : NULL;
  char *exts_text = NULL, *ignore_text = NULL;
  query_t q = {0};
  if (!dir || !read_query(env, argc, argv, &q, &exts_text, &ignore_text)) {
    free(dir);
    free(exts_text);
    free(ignore_text);
    free(q.exts.ext);
    free(q.exts.len);
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && !pending) napi_throw_type_error(env, NULL, "listRecords: bad arguments");
    return NULL;
  }
  napi_value result = NULL;
  DIR *d = opendir(dir);
  records_bufs_t *kept = d ? thread_bufs() : NULL;
  if (!d) throw_errno(env, errno, "scandir", dir);
  else if (!kept) {
    closedir(d);
    throw_nomem(env, "listRecords");
  } else {
    records_out_t o = {.recs = kept->recs, .dirs = kept->dirs, .errs = kept->errs, .ascii = true};
    prefix_t px;
    int rc = prefix_of(&q, dir, dir_len, &px, &o.ascii) ? list_into(d, &q, &px, &o) : -1;
    closedir(d);
    if (rc == 1) napi_get_null(env, &result);
    else if (rc > 0) throw_errno(env, rc, "scandir", dir);
    else {
      napi_value v[6];
      if (rc < 0 || !new_string(env, &o.recs, o.ascii, &v[0]) || napi_create_double(env, (double)o.count, &v[1]) != napi_ok ||
          napi_create_double(env, o.bytes, &v[2]) != napi_ok || napi_create_double(env, (double)o.entries, &v[3]) != napi_ok ||
          !new_string(env, &o.dirs, false, &v[4]) || !new_string(env, &o.errs, false, &v[5]))
        throw_nomem(env, "listRecords");
      else result = js_tuple(env, 6, v);
    }
    free(px.text);
    keep_or_free(&kept->recs, &o.recs);
    keep_or_free(&kept->dirs, &o.dirs);
    keep_or_free(&kept->errs, &o.errs);
  }
  free(dir);
  free(exts_text);
  free(ignore_text);
  free(q.exts.ext);
  free(q.exts.len);
  return result;
}
