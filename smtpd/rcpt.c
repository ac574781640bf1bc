/* rcpt: the RCPT-time recipient check of tern-smtpd. See rcpt.h. */
#include <string.h>
#include "smtpd/rcpt.h"
#include "common/addr.h"

static char lc(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static int caseeq(const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) if (lc(a[i]) != lc(b[i])) return 0;
  return 1;
}

/* the prepend of the last virtualdomains line whose key is k[0..klen), or 0 */
static const char *vd_find(const struct ctl_list *vd, const char *k, size_t klen)
{
  size_t pos = 0;
  const char *e, *hit = 0;
  while ((e = ctl_listnext(vd, &pos))) {
    const char *colon = strchr(e, ':');
    if (!colon) continue;
    if ((size_t)(colon - e) == klen && caseeq(e, k, klen)) hit = colon + 1;
  }
  return hit;
}

int rcpt_local(const char *a, size_t len, const struct ctl_list *locals,
               const struct ctl_list *vd, char *L, size_t *llen)
{
  size_t at, dlen, n = 0;
  const char *dom, *p, *pre = 0;
  if (len > ADDR_MAX) return -1;
  for (at = len; at > 0 && a[at - 1] != '@'; at--) ;
  if (!at) return -1;
  dom = a + at;
  dlen = len - at;
  at--;                      /* the local part is a[0..at) */
  if (!ctl_domain_match(locals, dom, dlen)) {
    pre = vd_find(vd, a, len);
    if (!pre && dlen) pre = vd_find(vd, dom, dlen);
    for (p = dom; !pre && p < dom + dlen; p++)
      if (*p == '.') pre = vd_find(vd, p, dlen - (size_t)(p - dom));
    if (!pre) pre = vd_find(vd, "", 0);
    if (!pre || !*pre) return 0;
  }
  if (pre) {
    size_t pl = strlen(pre);
    if (pl + 1 + at >= RCPT_LOCAL_MAX) return -1;
    for (size_t i = 0; i < pl; i++) L[n++] = lc(pre[i]);
    L[n++] = '-';
  }
  for (size_t i = 0; i < at; i++) L[n++] = lc(a[i]);
  L[n] = 0;
  *llen = n;
  return 1;
}

static int look(rcpt_lookup f, void *ctx, char *k, char tag, const char *s, size_t n)
{
  k[0] = tag;
  memcpy(k + 1, s, n);
  return f(ctx, k, n + 1);
}

int rcpt_known(const char *L, size_t n, rcpt_lookup f, void *ctx)
{
  char k[RCPT_LOCAL_MAX + 1];
  const char *dash;
  size_t user;
  int r;
  if (n >= RCPT_LOCAL_MAX) return 0;
  dash = memchr(L, '-', n);
  user = dash ? (size_t)(dash - L) : n;
  if ((r = look(f, ctx, k, '*', L, 0))) return r;
  if ((r = look(f, ctx, k, '=', L, n))) return r;
  for (size_t i = 0; i <= n; i++)
    if ((r = look(f, ctx, k, '+', L, i))) return r;
  if (user && (r = look(f, ctx, k, 'u', L, user))) return r;
  if ((r = look(f, ctx, k, 'a', L, n))) return r;
  if (user && user < n && (r = look(f, ctx, k, 'a', L, user))) return r;
  return 0;
}
