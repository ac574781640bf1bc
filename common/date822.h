#ifndef TERN_COMMON_DATE822_H
#define TERN_COMMON_DATE822_H
/* RFC 5322 3.3 date-time, always in UTC: "Sun, 29 Nov 2026 18:21:54 +0000".
   DATE822_MAX bytes with NUL. */
#include <stddef.h>
#include <time.h>
#define DATE822_MAX 40
/* writes the date and a NUL into dst; returns the length without NUL */
extern size_t date822_fmt(char *dst, time_t t);
#endif
