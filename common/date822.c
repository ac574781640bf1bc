/* date822: RFC 5322 3.3 dates in UTC, without locale or stdio. */
#include <string.h>
#include "common/date822.h"

static size_t two(char *d, int v) { d[0] = (char)('0' + v / 10 % 10); d[1] = (char)('0' + v % 10); return 2; }

size_t date822_fmt(char *dst, time_t t)
{
  static const char days[] = "SunMonTueWedThuFriSat";
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  struct tm tm;
  size_t n = 0;
  int y;
  if (!gmtime_r(&t, &tm)) { memset(&tm, 0, sizeof tm); tm.tm_mday = 1; tm.tm_year = 70; tm.tm_wday = 4; }
  memcpy(dst, days + 3 * tm.tm_wday, 3); n = 3;
  dst[n++] = ','; dst[n++] = ' ';
  if (tm.tm_mday >= 10) dst[n++] = (char)('0' + tm.tm_mday / 10);
  dst[n++] = (char)('0' + tm.tm_mday % 10);
  dst[n++] = ' ';
  memcpy(dst + n, months + 3 * tm.tm_mon, 3); n += 3;
  dst[n++] = ' ';
  y = tm.tm_year + 1900;
  if (y < 0) y = 0;
  if (y > 9999) y = 9999;
  dst[n++] = (char)('0' + y / 1000); dst[n++] = (char)('0' + y / 100 % 10);
  n += two(dst + n, y % 100);
  dst[n++] = ' ';
  n += two(dst + n, tm.tm_hour); dst[n++] = ':';
  n += two(dst + n, tm.tm_min); dst[n++] = ':';
  n += two(dst + n, tm.tm_sec);
  memcpy(dst + n, " +0000", 6); n += 6;
  dst[n] = 0;
  return n;
}
