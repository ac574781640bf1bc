#ifndef TERN_COMMON_CHECKPW_H
#define TERN_COMMON_CHECKPW_H
/* The checkpassword interface (D. J. Bernstein's checkpassword, as
   qmail-popup and the SMTP AUTH patches of qmail use it): the caller
   writes "user\0password\0timestamp\0" on the checker's fd 3 and closes it;
   the checker exits 0 (good), 1 (bad user or password) or 111 (temporary
   trouble); on 0 it may exec a program given as its arguments. libc only.

   tern's limits: user 1..CHECKPW_USER_MAX bytes, password
   1..CHECKPW_PASS_MAX bytes, timestamp 0..CHECKPW_STAMP_MAX bytes; no byte
   below 0x20 nor 0x7f in the user (it is logged); the whole request at
   most CHECKPW_REQ_MAX bytes (checkpassword's own limit is 512). */
#include <stddef.h>

#define CHECKPW_USER_MAX 255
#define CHECKPW_PASS_MAX 200
#define CHECKPW_STAMP_MAX 50
#define CHECKPW_REQ_MAX 512

#define CHECKPW_OK 0
#define CHECKPW_BAD 1
#define CHECKPW_TEMP 111

/* Build a request into buf (CHECKPW_REQ_MAX bytes). Returns its length,
   or 0 if a field is empty, too long or holds a byte it may not. */
extern size_t checkpw_format(char *buf, const char *user, size_t ulen, const char *pass, size_t plen, const char *stamp);

/* Parse a request buf[0..len) in place: 0 with *user and *pass pointing
   into buf (NUL-terminated), or -1 if it is not exactly three fields
   within the limits above. */
extern int checkpw_parse(char *buf, size_t len, const char **user, const char **pass);
#endif
