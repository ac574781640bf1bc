#ifndef TERN_SMTPD_DOVECOT_H
#define TERN_SMTPD_DOVECOT_H
/* What tern-authdovecot reads from Dovecot's authentication socket (the
   auth-client protocol, version 1): pure, libc only. Lines are TAB-
   separated fields without the LF, at most DOVECOT_LINE_MAX bytes.

   Handshake from the server: VERSION 1 minor, MECH name [flags]..., SPID,
   CUID, COOKIE, ..., DONE. Reply to "AUTH id PLAIN ...": OK id [args],
   FAIL id [args] (with "code=temp_fail", or "temp" from older versions: a
   temporary failure, such as an unreadable password database), CONT id
   (PLAIN never needs one). */
#include <stddef.h>

#define DOVECOT_LINE_MAX 8192
#define DOVECOT_HANDSHAKE_LINES 64   /* lines before DONE, at most */

#define DV_MORE 0       /* handshake: go on */
#define DV_DONE 1       /* handshake: DONE, version 1 and PLAIN offered */
#define DV_OK 2
#define DV_FAIL 3
#define DV_TEMPFAIL 4
#define DV_BAD (-1)     /* a protocol error: treated as temporary */

struct dovecot_hs { int version_ok; int plain; unsigned lines; };

/* Feed one handshake line l[0..n). DV_MORE, DV_DONE, or DV_BAD (no
   version 1 before DONE, no PLAIN, too many or too long lines). */
extern int dovecot_handshake(struct dovecot_hs *h, const char *l, size_t n);

/* The reply line l[0..n) to the request with number id: DV_OK, DV_FAIL,
   DV_TEMPFAIL, or DV_BAD (another id, CONT, unknown or too long). */
extern int dovecot_reply(const char *l, size_t n, unsigned long id);
#endif
