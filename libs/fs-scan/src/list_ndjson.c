// listNdjson: one directory's regular files as the NDJSON records `filer find --format ndjson`
// prints, in one call: the directory is opened once, listed, its files fstatat()'ed relative to it,
// and each record formatted here, so the walker handles no object, Date or JSON per file. The
// bytes are those the JS formatter (libs/engine/src/output/find-format.ts) makes for the same
// entry; whatever it would print differently (a name that is not valid UTF-8, an mtime outside
// years 1000–9999, an entry of unknown type) makes the call answer null and the walker take its
// general path for that directory.
#include "fs_scan_internal.h"

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
#define NDJSON_PATH_MAX 4096

// Whether s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF): then its bytes are what Buffer.from(string) gives back for the decoded name.
static bool valid_utf8(const unsigned char *s, size_t n, bool *ascii) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    *ascii = false;
    size_t k;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) k = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      k = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      k = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else return false;
    if (i + k >= n) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t j = 2; j <= k; j++)
      if (s[i + j] < 0x80 || s[i + j] > 0xBF) return false;
    i += k + 1;
  }
  return true;
}

// Appends a name with JSON.stringify's escapes (without quotes): \" \\ \b \f \n \r \t, other
// control characters as \u00xx. `dst` has room for 6 bytes per input byte.
static size_t json_escape(char *dst, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      dst[o++] = (char)c;
      continue;
    }
    dst[o++] = '\\';
    switch (c) {
      case '"': dst[o++] = '"'; break;
      case '\\': dst[o++] = '\\'; break;
      case '\b': dst[o++] = 'b'; break;
      case '\f': dst[o++] = 'f'; break;
      case '\n': dst[o++] = 'n'; break;
      case '\r': dst[o++] = 'r'; break;
      case '\t': dst[o++] = 't'; break;
      default:
        memcpy(dst + o, "u00", 3);
        dst[o + 3] = hex[c >> 4];
        dst[o + 4] = hex[c & 15];
        o += 5;
    }
  }
  return o;
}

static size_t put_digits(char *dst, uint64_t v, int width) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n < width) tmp[n++] = '0';
  for (int i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
  return (size_t)n;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// `new Date(ms).toISOString()` for the mtime the JS walker computes (sec × 1000 + nsec / 1e6, as
// statNames does) into dst (24 bytes); 0 outside years 1000–9999, where Date prints otherwise.
static size_t iso_time(char *dst, const struct timespec *ts) {
  double ms = (double)ts->tv_sec * 1000.0 + (double)ts->tv_nsec / 1e6;
  double tr = trunc(ms);
  if (!(tr >= -30610224000000.0 && tr < 253402300800000.0)) return 0;
  int64_t t = (int64_t)tr;
  int64_t days = floor_div(t, 86400000);
  int64_t rem = t - days * 86400000;
  // Hinnant's civil-from-days (proleptic Gregorian), as libs/engine/src/output/iso-time.ts.
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  size_t o = put_digits(dst, (uint64_t)y, 4);
  dst[o++] = '-';
  o += put_digits(dst + o, (uint64_t)m, 2);
  dst[o++] = '-';
  o += put_digits(dst + o, (uint64_t)d, 2);
  dst[o++] = 'T';
  o += put_digits(dst + o, (uint64_t)(rem / 3600000), 2);
  dst[o++] = ':';
  o += put_digits(dst + o, (uint64_t)(rem / 60000 % 60), 2);
  dst[o++] = ':';
  o += put_digits(dst + o, (uint64_t)(rem / 1000 % 60), 2);
  dst[o++] = '.';
  o += put_digits(dst + o, (uint64_t)(rem % 1000), 3);
  dst[o++] = 'Z';
  return o;
}

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
} ndjson_out_t;

// Each walker thread calls once per directory: its buffers are kept between calls (no malloc per
// directory), given back after a directory that needed more than KEEP_BYTES, and freed when the
// thread ends (a pthread key's destructor: worker threads come and go in a long-lived process).
typedef struct {
  buf_t recs, dirs, errs;
} ndjson_bufs_t;
#define KEEP_BYTES ((size_t)1 << 20)

static pthread_key_t bufs_key;
static pthread_once_t bufs_once = PTHREAD_ONCE_INIT;
static int bufs_key_err;

static void free_bufs(void *p) {
  ndjson_bufs_t *b = p;
  free(b->recs.data);
  free(b->dirs.data);
  free(b->errs.data);
  free(b);
}

static void make_bufs_key(void) { bufs_key_err = pthread_key_create(&bufs_key, free_bufs); }

// This thread's buffers, or NULL out of memory.
static ndjson_bufs_t *thread_bufs(void) {
  if (pthread_once(&bufs_once, make_bufs_key) != 0 || bufs_key_err) return NULL;
  ndjson_bufs_t *b = pthread_getspecific(bufs_key);
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

// Formats one file's record: 0, 1 to give the directory to the general path, -1 out of memory.
static int put_record(ndjson_out_t *o, const char *prefix, size_t plen, const char *nm, size_t l, const struct stat *st) {
  if (reserve(&o->recs, plen + 6 * l + sizeof REC_MID + sizeof REC_MTIME + 64)) return -1;
  char *p = o->recs.data + o->recs.len;
  char *start = p;
  memcpy(p, prefix, plen);
  p += plen;
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
  o->recs.len += (size_t)(p - start);
  o->count++;
  o->bytes += (double)st->st_size;
  return 0;
}

// Lists `d` into `o`: 0, 1 for the general path, -1 out of memory, or an errno from readdir.
static int list_into(DIR *d, const char *dir, size_t dir_len, const char *prefix, size_t plen, bool hidden, bool want_dirs,
                     ndjson_out_t *o) {
  int dfd = dirfd(d);
  for (;;) {
    errno = 0;
    struct dirent *ent = readdir(d);
    if (!ent) return errno;
    const char *nm = ent->d_name;
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
    o->entries++;
    if (nm[0] == '.' && !hidden) continue;
    size_t l = strlen(nm);
    if (ent->d_type == DT_UNKNOWN) return 1;
    if (ent->d_type == DT_DIR) {
      if (want_dirs && buf_put(&o->dirs, nm, l + 1)) return -1;
      continue;
    }
    if (ent->d_type != DT_REG) continue;
    if (!valid_utf8((const unsigned char *)nm, l, &o->ascii)) return 1;
    struct stat st;
    int err = 0;
    if (dir_len + 1 + l + 1 > NDJSON_PATH_MAX) err = ENAMETOOLONG;
    else if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0) err = errno;
    if (err) {
      char code[16];
      int cl = snprintf(code, sizeof code, "%d", err);
      if (buf_put(&o->errs, nm, l + 1) || buf_put(&o->errs, code, (size_t)cl + 1)) return -1;
      continue;
    }
    int r = put_record(o, prefix, plen, nm, l, &st);
    if (r) return r;
  }
}

static bool new_string(napi_env env, const buf_t *b, bool ascii, napi_value *out) {
  const char *s = b->data ? b->data : "";
  return (ascii ? napi_create_string_latin1(env, s, b->len, out) : napi_create_string_utf8(env, s, b->len, out)) == napi_ok;
}

// listNdjson(dir, hidden, wantDirs) -> [records, count, bytes, entries, subdirs, failures] or null
napi_value list_ndjson(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t dir_len = 0;
  char *dir = argc >= 3 ? get_string(env, argv[0], &dir_len) : NULL;
  bool hidden = false, want_dirs = false;
  if (!dir || napi_get_value_bool(env, argv[1], &hidden) != napi_ok || napi_get_value_bool(env, argv[2], &want_dirs) != napi_ok) {
    free(dir);
    napi_throw_type_error(env, NULL, "listNdjson: bad arguments");
    return NULL;
  }
  DIR *d = opendir(dir);
  if (!d) {
    int e = errno;
    napi_value r = throw_errno(env, e, "scandir", dir);
    free(dir);
    return r;
  }
  ndjson_bufs_t *kept = thread_bufs();
  if (!kept) {
    closedir(d);
    free(dir);
    return throw_nomem(env, "listNdjson");
  }
  ndjson_out_t o = {.recs = kept->recs, .dirs = kept->dirs, .errs = kept->errs, .ascii = true};
  // The records' common start: `{"path":"`, the directory JSON-escaped, and its slash.
  size_t plen = 0;
  char *prefix = malloc(sizeof REC_START + 6 * dir_len + 1);
  if (prefix) {
    valid_utf8((const unsigned char *)dir, dir_len, &o.ascii);
    memcpy(prefix, REC_START, sizeof REC_START - 1);
    plen = sizeof REC_START - 1;
    plen += json_escape(prefix + plen, dir, dir_len);
    if (dir_len == 0 || dir[dir_len - 1] != '/') prefix[plen++] = '/';
  }
  int rc = prefix ? list_into(d, dir, dir_len, prefix, plen, hidden, want_dirs, &o) : -1;
  closedir(d);
  napi_value result = NULL;
  if (rc == 1) napi_get_null(env, &result);
  else if (rc > 0) throw_errno(env, rc, "scandir", dir);
  else {
    napi_value v[6];
    if (rc < 0 || !new_string(env, &o.recs, o.ascii, &v[0]) || napi_create_double(env, (double)o.count, &v[1]) != napi_ok ||
        napi_create_double(env, o.bytes, &v[2]) != napi_ok || napi_create_double(env, (double)o.entries, &v[3]) != napi_ok ||
        !new_string(env, &o.dirs, false, &v[4]) || !new_string(env, &o.errs, false, &v[5]))
      throw_nomem(env, "listNdjson");
    else result = js_tuple(env, 6, v);
  }
  free(dir);
  free(prefix);
  keep_or_free(&kept->recs, &o.recs);
  keep_or_free(&kept->dirs, &o.dirs);
  keep_or_free(&kept->errs, &o.errs);
  return result;
}
