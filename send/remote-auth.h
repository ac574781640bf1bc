#ifndef TERN_SEND_REMOTE_AUTH_H
#define TERN_SEND_REMOTE_AUTH_H
/* Credentials for relay hosts with SMTP AUTH (RFC 4954): the file
   HOME/remote/auth, readable by ternr only, one entry a line,
     NAME:user:password
   where NAME is what a control/smtproutes entry names with " auth=NAME",
   user has no ':' and the password is the rest of the line (it may hold
   ':' and blanks; a CR before the LF is dropped). Empty lines and lines
   starting with '#' are skipped. libc only. */
#include <stddef.h>

#define RAUTH_PATH "remote/auth"     /* relative to HOME */
#define RAUTH_FILE_MAX 65536         /* bytes read at most */
#define RAUTH_FIELD_MAX 255          /* bytes of a user name or password */
/* bytes of the AUTH PLAIN argument, base64 of "\0user\0password", NUL included */
#define RAUTH_PLAIN_MAX (4 * ((2 * RAUTH_FIELD_MAX + 2 + 2) / 3) + 1)

struct rauth {
  char user[RAUTH_FIELD_MAX + 1];
  char pass[RAUTH_FIELD_MAX + 1];
};

/* The entry for name in the file's bytes buf[0..len). 1 found (*a
   filled), 0 no such entry, -1 its line is malformed (no user, an empty
   or over-long field, a NUL or control byte other than TAB). */
extern int rauth_find(const char *buf, size_t len, const char *name, struct rauth *a);

/* Read RAUTH_PATH (relative to the working directory) and find name.
   1 found, 0 no such entry, -1 malformed entry, -2 the file cannot be
   read, -3 it is readable or writable by group or others, or not a
   regular file (it is then not used). */
extern int rauth_load(const char *name, struct rauth *a);

/* The AUTH PLAIN (RFC 4616) argument for *a: base64 of NUL user NUL
   password, NUL-terminated in out (RAUTH_PLAIN_MAX bytes); its length. */
extern size_t rauth_plain(const struct rauth *a, char *out);

/* Overwrite *a with zeros (the password does not stay in memory). */
extern void rauth_wipe(struct rauth *a);
#endif
