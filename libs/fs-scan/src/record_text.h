// The bytes libs/engine/src/output/find-format.ts makes for a file's record, made natively: JSON
// string escapes, decimal digits, Date#toISOString, and the UTF-8 check that says a name's bytes
// are what JS would print for it.
#ifndef FILER_RECORD_TEXT_H
#define FILER_RECORD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

// Whether s[0..n) is well-formed UTF-8; clears *ascii when it holds a byte above 0x7f.
bool valid_utf8(const unsigned char *s, size_t n, bool *ascii);
// s[0..n) with JSON.stringify's escapes, without quotes; dst has room for 6 bytes per input byte.
size_t json_escape(char *dst, const char *s, size_t n);
// v in decimal, zero-padded to `width` digits.
size_t put_digits(char *dst, uint64_t v, int width);
// The mtime in milliseconds as the JS walker computes it (statNames: sec × 1000 + nsec / 1e6).
double mtime_ms(const struct timespec *ts);
// `new Date(mtime_ms).toISOString()` into dst (24 bytes); 0 outside years 1000–9999.
size_t iso_time(char *dst, const struct timespec *ts);

#endif
