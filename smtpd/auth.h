#ifndef TERN_SMTPD_AUTH_H
#define TERN_SMTPD_AUTH_H
/* SMTP AUTH (RFC 4954) as tern-smtpd reads it from the client: the AUTH
   command's argument, the client's responses, the PLAIN message (RFC 4616)
   and LOGIN's two answers. Pure (libc only): tern-smtpd does the I/O, the
   password check runs in another process (common/checkpw.h). */
#include <stddef.h>
#include "common/checkpw.h"

#define AUTH_PLAIN 1
#define AUTH_LOGIN 2
#define AUTH_UNKNOWN 0     /* 504 5.5.4 */
#define AUTH_SYNTAX (-1)   /* 501 5.5.2 */
#define AUTH_CANCEL (-2)   /* "*": 501 5.0.0 (RFC 4954 section 4) */
#define AUTH_AUTHZID (-3)  /* PLAIN authzid neither empty nor the user: 535 (RFC 4616 section 2) */

#define AUTH_RESPONSE_MAX 12288   /* one client line, bytes (RFC 4954 section 4) */
#define AUTH_DECODED_MAX 1024     /* one decoded response, bytes */

/* The argument of AUTH, s[0..n): "MECH" or "MECH SP initial-response"
   (mechanism names in any case). Returns AUTH_PLAIN or AUTH_LOGIN with
   *ir and *irlen set (irlen 0: no initial response; "=" is an empty one),
   AUTH_UNKNOWN, or AUTH_SYNTAX (empty, extra fields, bad characters). */
extern int auth_command(const char *s, size_t n, const char **ir, size_t *irlen);

/* A response line s[0..n) (no CRLF), or an initial response: "*" gives
   AUTH_CANCEL, "=" an empty response (0), otherwise base64 decoded into
   out (AUTH_DECODED_MAX bytes): the length, or AUTH_SYNTAX. */
extern long auth_response(const char *s, size_t n, char *out);

/* The PLAIN message m[0..n) (decoded): authzid NUL authcid NUL passwd.
   0 with user (CHECKPW_USER_MAX + 1 bytes) and pass (CHECKPW_PASS_MAX + 1)
   NUL-terminated; AUTH_SYNTAX if not three fields, a field too long or
   empty (authzid may be empty), or a user checkpw_format would refuse;
   AUTH_AUTHZID if authzid is neither empty nor equal to authcid. */
extern int auth_plain(const char *m, size_t n, char *user, char *pass);

/* One LOGIN answer (decoded) m[0..n) as a user or a password: copied to
   dst (max + 1 bytes) and NUL-terminated; 0, or AUTH_SYNTAX if empty, over
   max, or holding NUL (or, for a user, a byte checkpw_format refuses). */
extern int auth_login_field(const char *m, size_t n, char *dst, size_t max, int isuser);
#endif
