#ifndef TERN_SMTPD_AUTHFAIL_H
#define TERN_SMTPD_AUTHFAIL_H
/* authfail: failed SMTP AUTH attempts counted per client address and per
   user name across sessions (tern-smtpd is one process per connection).
   One small file per key in a directory only ternd may write
   (HOME/auth-fail, tern-smtpd.8 AUTH): "ip-ADDRESS" (an address of other
   bytes than [0-9A-Fa-f.:] is hashed, as is every user name, so no
   file name comes from untrusted bytes) holding the count in decimal;
   its mtime is the last failure. A count whose last failure is older than
   the window counts as 0, and such files are removed now and then. libc
   only; a missing or unwritable directory means no counting (0). */

struct authfail { unsigned long ip, user; };

/* The counts for ip and user (user 0: only the address) into *f. */
extern void authfail_get(const char *dir, const char *ip, const char *user,
                         unsigned long window, struct authfail *f);

/* One more failure for ip and user; the new counts into *f. */
extern void authfail_add(const char *dir, const char *ip, const char *user,
                         unsigned long window, struct authfail *f);

/* Take back one authfail_add of ip and user (counts never go below 0):
   tern-smtpd counts every attempt before its password is checked, so
   that sessions in parallel cannot have more passwords checked than the
   limit allows, and takes the count back when the check succeeds or
   fails temporarily. */
extern void authfail_undo(const char *dir, const char *ip, const char *user, unsigned long window);

/* A success: the user's count starts again (the address's does not: one
   known password must not buy an address more guesses at others). */
extern void authfail_clear(const char *dir, const char *user);

/* The file name of a key (pure): "ip-" ip, or "user-" and 16 hex digits
   of a 64-bit FNV-1a hash of user, into name (AUTHFAIL_NAME bytes). */
#define AUTHFAIL_NAME 80
extern void authfail_name(char *name, const char *kind, const char *key);

/* Seconds to wait before answering a failure (pure): 0 for the first
   three failures of both counts, then one second more per failure of the
   larger count, at most cap. */
extern unsigned long authfail_delay(const struct authfail *f, unsigned long cap);
#endif
