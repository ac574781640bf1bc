#ifndef TERN_SEND_REMOTE_TEXT_H
#define TERN_SEND_REMOTE_TEXT_H
/* tern-remote's report texts: a fixed buffer of TEXT_MAX bytes and a NUL,
   appended to and silently cut at TEXT_MAX (qmail-remote(8) reports are
   one NUL-terminated text each). libc only. */
#include <stddef.h>

#define TEXT_MAX 3500            /* bytes per report text */

struct txt { char s[TEXT_MAX + 1]; size_t n; };

/* append the string s, the bytes s[0..len), s with every byte outside
   33..126 as '?' (host names from DNS), or u in decimal */
extern void tcat(struct txt *t, const char *s);
extern void tcatb(struct txt *t, const char *s, size_t len);
extern void tcatsafe(struct txt *t, const char *s);
extern void tcatu(struct txt *t, unsigned long u);
#endif
