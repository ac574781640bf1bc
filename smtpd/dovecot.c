/* smtpd/dovecot.c: Dovecot auth-client protocol lines (dovecot.h). */
#include <string.h>
#include "smtpd/dovecot.h"

/* field k (0-based) of l[0..n) into *f, *fl; 1 if it exists */
static int fieldk(const char *l, size_t n, unsigned k, const char **f, size_t *fl)
{
  size_t a = 0;
  for (;;) {
    const char *t = memchr(l + a, '\t', n - a);
    size_t b = t ? (size_t)(t - l) : n;
    if (!k--) { *f = l + a; *fl = b - a; return 1; }
    if (!t) return 0;
    a = b + 1;
  }
}

static int is(const char *f, size_t fl, const char *s) { return fl == strlen(s) && !memcmp(f, s, fl); }

int dovecot_handshake(struct dovecot_hs *h, const char *l, size_t n)
{
  const char *f;
  size_t fl;
  if (n > DOVECOT_LINE_MAX || ++h->lines > DOVECOT_HANDSHAKE_LINES || memchr(l, '\n', n)) return DV_BAD;
  if (!fieldk(l, n, 0, &f, &fl)) return DV_BAD;
  if (is(f, fl, "VERSION")) {
    if (!fieldk(l, n, 1, &f, &fl) || !is(f, fl, "1")) return DV_BAD;   /* major version 1 only */
    h->version_ok = 1;
  } else if (is(f, fl, "MECH")) {
    if (fieldk(l, n, 1, &f, &fl) && is(f, fl, "PLAIN")) h->plain = 1;
  } else if (is(f, fl, "DONE")) {
    return h->version_ok && h->plain ? DV_DONE : DV_BAD;
  }
  return DV_MORE;
}

int dovecot_reply(const char *l, size_t n, unsigned long id)
{
  const char *f, *g;
  size_t fl, gl, k;
  unsigned long v = 0;
  if (n > DOVECOT_LINE_MAX || memchr(l, '\n', n) || !fieldk(l, n, 0, &f, &fl) || !fieldk(l, n, 1, &g, &gl)) return DV_BAD;
  if (!gl || gl > 10 || (gl > 1 && g[0] == '0')) return DV_BAD;   /* no leading zeros */
  for (k = 0; k < gl; k++) {
    if (g[k] < '0' || g[k] > '9') return DV_BAD;
    v = v * 10 + (unsigned long)(g[k] - '0');
  }
  if (v != id) return DV_BAD;
  if (is(f, fl, "OK")) return DV_OK;
  if (!is(f, fl, "FAIL")) return DV_BAD;
  for (unsigned i = 2; fieldk(l, n, i, &g, &gl); i++)
    if (is(g, gl, "temp") || is(g, gl, "code=temp_fail")) return DV_TEMPFAIL;
  return DV_FAIL;
}
