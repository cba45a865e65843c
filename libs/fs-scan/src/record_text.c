// Record text as the JS formatter makes it (see record_text.h): list_records.c formats whole
// directories' records with these, so the walker handles no object, Date or JSON per file.
#include "record_text.h"

#include <math.h>
#include <string.h>

// Whether s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF): then its bytes are what Buffer.from(string) gives back for the decoded name.
bool valid_utf8(const unsigned char *s, size_t n, bool *ascii) {
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
size_t json_escape(char *dst, const char *s, size_t n) {
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

size_t put_digits(char *dst, uint64_t v, int width) {
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

double mtime_ms(const struct timespec *ts) { return (double)ts->tv_sec * 1000.0 + (double)ts->tv_nsec / 1e6; }

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// `new Date(ms).toISOString()` for the mtime the JS walker computes (sec × 1000 + nsec / 1e6, as
// statNames does) into dst (24 bytes); 0 outside years 1000–9999, where Date prints otherwise.
size_t iso_time(char *dst, const struct timespec *ts) {
  double ms = mtime_ms(ts);
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

