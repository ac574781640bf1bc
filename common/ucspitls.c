/* common/ucspitls.c: the UCSPI-TLS control reply (ucspitls.h). */
#include <string.h>
#include "common/ucspitls.h"

static int tokenchar(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* copy a field of n bytes; every byte must pass ok(); 0 or -1 */
static int field(char *dst, const char *s, size_t n, int reason)
{
  if (!n || n > UCSPITLS_FIELD_MAX) return -1;
  for (size_t k = 0; k < n; k++) {
    unsigned char c = (unsigned char)s[k];
    if (reason ? (c < 0x20 || c > 0x7e) : !tokenchar(c)) return -1;
  }
  memcpy(dst, s, n);
  dst[n] = 0;
  return 0;
}

/* the next space-delimited token of s[*pos..end); its length, 0 if none */
static size_t token(const char *s, size_t end, size_t *pos, const char **t)
{
  size_t a = *pos, b = a;
  while (b < end && s[b] != ' ') b++;
  *t = s + a;
  *pos = b < end ? b + 1 : b;
  return b - a;
}

int ucspitls_parse(const char *s, size_t len, struct ucspitls_info *i)
{
  size_t end, pos = 0, n;
  const char *t;
  memset(i, 0, sizeof *i);
  if (len < 2 || len > UCSPITLS_REPLY_MAX || s[len - 1] != '\n') return -1;
  end = len - 1;
  if (memchr(s, '\n', end)) return -1;
  if (end > 4 && !memcmp(s, "ERR ", 4)) return field(i->reason, s + 4, end - 4, 1);
  if (end < 3 || memcmp(s, "OK ", 3)) return -1;
  pos = 3;
  n = token(s, end, &pos, &t);
  if (field(i->protocol, t, n, 0) < 0) return -1;
  n = token(s, end, &pos, &t);
  if (field(i->cipher, t, n, 0) < 0) return -1;
  n = token(s, end, &pos, &t);
  if (!n || n > 5 || (n > 1 && t[0] == '0')) return -1;   /* no leading zeros */
  for (size_t k = 0; k < n; k++) {
    if (t[k] < '0' || t[k] > '9') return -1;
    i->bits = i->bits * 10 + (unsigned)(t[k] - '0');
  }
  n = token(s, end, &pos, &t);
  if (field(i->servername, t, n, 0) < 0) return -1;
  if (pos != end) {                          /* the optional peer [note] */
    n = token(s, end, &pos, &t);
    if (field(i->peer, t, n, 0) < 0) return -1;
    if (pos != end && field(i->note, s + pos, end - pos, 1) < 0) return -1;
  }
  if (s[end - 1] == ' ') return -1;
  i->ok = 1;
  return 0;
}

static size_t put(char *buf, size_t n, const char *s, int reason)
{
  size_t l = strlen(s), k;
  int good = l && l <= UCSPITLS_FIELD_MAX;
  for (k = 0; good && k < l; k++)
    if (reason ? (s[k] < 0x20 || s[k] > 0x7e) : !tokenchar((unsigned char)s[k])) good = 0;
  if (!good) s = reason ? "handshake failed" : "-", l = strlen(s);
  memcpy(buf + n, s, l);
  return n + l;
}

size_t ucspitls_format(char *buf, const struct ucspitls_info *i)
{
  size_t n;
  if (!i->ok) {
    memcpy(buf, "ERR ", 4);
    n = put(buf, 4, i->reason, 1);
  } else {
    char num[8];
    unsigned b = i->bits > 99999 ? 99999 : i->bits;
    size_t d = 0;
    char tmp[8];
    do tmp[d++] = (char)('0' + b % 10); while ((b /= 10));
    for (size_t k = 0; k < d; k++) num[k] = tmp[d - 1 - k];
    num[d] = 0;
    memcpy(buf, "OK ", 3);
    n = put(buf, 3, i->protocol, 0);
    buf[n++] = ' ';
    n = put(buf, n, i->cipher, 0);
    buf[n++] = ' ';
    n = put(buf, n, num, 0);
    buf[n++] = ' ';
    n = put(buf, n, i->servername, 0);
    if (i->peer[0]) {
      buf[n++] = ' ';
      n = put(buf, n, i->peer, 0);
      if (i->note[0]) {
        buf[n++] = ' ';
        n = put(buf, n, i->note, 1);
      }
    }
  }
  buf[n++] = '\n';
  return n;
}
