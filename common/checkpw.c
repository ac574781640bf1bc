/* common/checkpw.c: the checkpassword request (checkpw.h). */
#include <string.h>
#include "common/checkpw.h"

static int user_ok(const char *u, size_t n)
{
  if (!n || n > CHECKPW_USER_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f) return 0;
  return 1;
}

size_t checkpw_format(char *buf, const char *user, size_t ulen, const char *pass, size_t plen, const char *stamp)
{
  size_t sl = strlen(stamp), n = 0;
  if (!user_ok(user, ulen) || !plen || plen > CHECKPW_PASS_MAX || memchr(pass, 0, plen) || sl > CHECKPW_STAMP_MAX)
    return 0;
  memcpy(buf, user, ulen); n += ulen; buf[n++] = 0;
  memcpy(buf + n, pass, plen); n += plen; buf[n++] = 0;
  memcpy(buf + n, stamp, sl); n += sl; buf[n++] = 0;
  return n;
}

int checkpw_parse(char *buf, size_t len, const char **user, const char **pass)
{
  char *p = buf, *end = buf + len, *z;
  size_t fl[3];
  for (int f = 0; f < 3; f++) {
    z = memchr(p, 0, (size_t)(end - p));
    if (!z) return -1;
    fl[f] = (size_t)(z - p);
    p = z + 1;
  }
  if (p != end || len > CHECKPW_REQ_MAX) return -1;
  if (!user_ok(buf, fl[0]) || !fl[1] || fl[1] > CHECKPW_PASS_MAX || fl[2] > CHECKPW_STAMP_MAX) return -1;
  *user = buf;
  *pass = buf + fl[0] + 1;
  return 0;
}
