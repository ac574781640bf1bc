#ifndef TERN_SEND_REMOTE_TXT_H
#define TERN_SEND_REMOTE_TXT_H
/* tern-remote's report texts: a bounded string that appends never past
   TXT_MAX bytes (the rest is dropped), always NUL-terminated. libc only. */
#include <stddef.h>

#define TXT_MAX 3500             /* bytes per report text */

struct txt { char s[TXT_MAX + 1]; size_t n; };

extern void tcat(struct txt *t, const char *s);                 /* a C string */
extern void tcatb(struct txt *t, const char *s, size_t len);    /* len bytes */
extern void tcatsafe(struct txt *t, const char *s);             /* host names: bytes 33..126, else '?' */
extern void tcatu(struct txt *t, unsigned long u);              /* decimal */
#endif
