/* smtpd/auth.c: SMTP AUTH parsing for tern-smtpd (auth.h). */
#include <string.h>
#include "common/base64.h"
#include "smtpd/auth.h"

static int ieq(const char *a, size_t n, const char *b)
{
  if (strlen(b) != n) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = a[i];
    if (c >= 'a' && c <= 'z') c = (char)(c - 32);
    if (c != b[i]) return 0;
  }
  return 1;
}

int auth_command(const char *s, size_t n, const char **ir, size_t *irlen)
{
  size_t m = 0;
  int mech;
  *ir = 0;
  *irlen = 0;
  while (m < n && s[m] != ' ') m++;
  if (!m) return AUTH_SYNTAX;
  for (size_t i = 0; i < m; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return AUTH_SYNTAX;
  }
  if (m > 20) return AUTH_UNKNOWN;                   /* RFC 4422 section 3.1: names are 1-20 characters */
  mech = ieq(s, m, "PLAIN") ? AUTH_PLAIN : ieq(s, m, "LOGIN") ? AUTH_LOGIN : AUTH_UNKNOWN;
  if (m == n) return mech;
  if (m + 1 == n || memchr(s + m + 1, ' ', n - m - 1)) return AUTH_SYNTAX;
  *ir = s + m + 1;
  *irlen = n - m - 1;
  return mech;
}

long auth_response(const char *s, size_t n, char *out)
{
  if (n == 1 && s[0] == '*') return AUTH_CANCEL;
  if (n == 1 && s[0] == '=') return 0;
  if (!n || n > AUTH_RESPONSE_MAX) return AUTH_SYNTAX;
  {
    long r = base64_decode(s, n, out, AUTH_DECODED_MAX);
    return r < 0 ? AUTH_SYNTAX : r;
  }
}

static int user_ok(const char *u, size_t n)
{
  char tmp[CHECKPW_REQ_MAX];
  return checkpw_format(tmp, u, n, "x", 1, "") != 0;
}

int auth_plain(const char *m, size_t n, char *user, char *pass)
{
  const char *z1 = memchr(m, 0, n), *z2;
  size_t zl, ul, pl;
  if (!z1) return AUTH_SYNTAX;
  zl = (size_t)(z1 - m);
  z2 = memchr(z1 + 1, 0, n - zl - 1);
  if (!z2) return AUTH_SYNTAX;
  ul = (size_t)(z2 - z1 - 1);
  pl = n - zl - ul - 2;
  if (!user_ok(z1 + 1, ul) || !pl || pl > CHECKPW_PASS_MAX || memchr(z2 + 1, 0, pl)) return AUTH_SYNTAX;
  if (zl && (zl != ul || memcmp(m, z1 + 1, ul))) return AUTH_AUTHZID;
  memcpy(user, z1 + 1, ul);
  user[ul] = 0;
  memcpy(pass, z2 + 1, pl);
  pass[pl] = 0;
  return 0;
}

int auth_login_field(const char *m, size_t n, char *dst, size_t max, int isuser)
{
  if (!n || n > max || memchr(m, 0, n)) return AUTH_SYNTAX;
  if (isuser && !user_ok(m, n)) return AUTH_SYNTAX;
  memcpy(dst, m, n);
  dst[n] = 0;
  return 0;
}
