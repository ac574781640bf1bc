#ifndef TERN_SMTPD_AUTHSENDER_H
#define TERN_SMTPD_AUTHSENDER_H
/* authsender: which envelope senders an authenticated user may use
   (tern-smtpd.8 AUTH). Pure (libc, common/ctl lists).

   A user may use the sender s (local@domain) when
   - the user name holds an '@' and s is that name, or
   - the user name holds no '@' and s is user@D for an entry D of
     control/locals (a ".suffix" entry names no domain here), or
   - control/authsenders has a line "user:s", or "user:@domain" with the
     domain of s.
   Addresses and domains compare in any ASCII case; user names exactly.
   The null sender <> is always allowed (bounces, RFC 5321 4.5.5). */
#include <stddef.h>
#include "common/ctl.h"

/* 1 allowed, 0 not. s[0..n) the sender without brackets (n 0: <>). */
extern int authsender_ok(const struct ctl_list *map, const struct ctl_list *locals,
                         const char *user, const char *s, size_t n);
#endif
