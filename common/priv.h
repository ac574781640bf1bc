#ifndef TERN_COMMON_PRIV_H
#define TERN_COMMON_PRIV_H
/* priv: giving up root for good, the one way every tern program does it
   (libc only). */
#include <stddef.h>
#include <sys/types.h>

/* Become uid and gid, with the supplementary groups groups[0..n) (n may be
   0: none), and check the result. Returns only if uid is not 0, the real,
   effective and saved uid are uid (setuid(0) fails), the real and
   effective gid are gid (and, gid not being 0, setgid(0) fails), and, when
   the caller was root, the supplementary groups are exactly the list. A
   caller that is not root cannot change its groups and keeps them (it can
   still "drop" to its own uid and gid). On any failure it writes
   "prog: fatal: unable to drop privileges to uid U gid G: reason" and LF
   to fd 2 and calls _exit(111); it never returns with root privileges
   kept. */
extern void priv_drop(const char *prog, uid_t uid, gid_t gid, size_t n, const gid_t *groups);
#endif
