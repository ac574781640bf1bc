#ifndef TERN_SMTPD_AUTHRUN_H
#define TERN_SMTPD_AUTHRUN_H
/* authrun: tern-smtpd's side of a password check. The password is never
   checked in tern-smtpd: a checkpassword program (common/checkpw.h) runs
   in a process of its own. libc only. */
#include <stddef.h>

#define AUTHRUN_ARGS 16     /* words of the command line, at most */

/* Split the command line s (control/authcheck: words separated by blanks,
   no quoting; the first an absolute path, or a name without '/' looked up
   in PATH) in place into argv (AUTHRUN_ARGS + 1 slots, 0-terminated). 1,
   or 0 when empty, a relative path, or too many words. */
extern int authrun_split(char *s, char **argv);

/* Run argv with the request req[0..n) (at most CHECKPW_REQ_MAX bytes) on
   its fd 3 and its fd 0 (the read end of one pipe: checkpassword programs
   read fd 3, `s6-sudo -e` passes fd 0 on), fd 1 on /dev/null, fd 2
   inherited, no other descriptor above 2. Waits at most timeout seconds,
   then kills it. Returns CHECKPW_OK (exit 0), CHECKPW_BAD (exit 1) or
   CHECKPW_TEMP (any other exit, a signal, the timeout, no fork or pipe). */
extern int authrun(char *const *argv, const char *req, size_t n, unsigned timeout);
#endif
