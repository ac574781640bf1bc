/* rcpt: the RCPT-time recipient check of tern-smtpd. See rcpt.h. */
#include <string.h>
#include "smtpd/rcpt.h"
#include "common/addr.h"

static char lc(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }


int rcpt_local(const char *a, size_t len, const struct ctl_list *locals,
               const struct ctl_list *vd, char *L, size_t *llen)
{
  size_t at, dlen, n = 0;
  const char *dom, *pre = 0;
  if (len > ADDR_MAX) return -1;
  for (at = len; at > 0 && a[at - 1] != '@'; at--) ;
  if (!at) return -1;
  dom = a + at;
  dlen = len - at;
  at--;                      /* the local part is a[0..at) */
  if (!ctl_domain_match(locals, dom, dlen)) {
    pre = ctl_vdomain(vd, a, len);
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
