/* rcpt: the RCPT-time recipient policy of tern-smtpd. See rcpt.h. */
#include <string.h>
#include <strings.h>
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

/* case-insensitive compare of an internal address with a list entry */
static int ieq(const char *a, size_t an, const char *b)
{
  size_t bn = strlen(b);
  if (an != bn) return 0;
  for (size_t i = 0; i < an; i++)
    if (lc(a[i]) != lc(b[i])) return 0;
  return 1;
}

int rcpt_listed(const struct ctl_list *l, const struct addr *a)
{
  size_t pos = 0;
  const char *e;
  while ((e = ctl_listnext(l, &pos))) {
    if (ieq(a->s, a->len, e)) return 1;
    if (e[0] == '@' && a->at < a->len && ieq(a->s + a->at, a->len - a->at, e)) return 1;
  }
  return 0;
}

/* 1 ours to accept, 0 not, -1 morercpthosts.cdb could not be read */
static int rcpthost_ok(const struct rcpt_policy *p, const char *d, size_t n)
{
  if (!p->have_rcpthosts)
    /* tern departs from qmail: no rcpthosts is not an open relay; only me */
    return ieq(d, n, p->me);
  if (ctl_domain_match(p->rcpthosts, d, n)) return 1;
  if (!p->morercpthosts) return 0;
  for (size_t j = 0; j < n; j++)
    if (j == 0 || d[j] == '.') {
      int r = p->morercpthosts(p->mrh_ctx, d + j, n - j);
      if (r) return r;
    }
  return 0;
}

/* <postmaster> becomes postmaster@me (RFC 5321 4.1.1.3); a literal of our
   own address becomes @localiphost (qmail-smtpd(8)). 0, or -1: too long. */
static int rewrite(const struct rcpt_policy *p, struct addr *a)
{
  if (a->flags & ADDR_F_NODOMAIN) {
    size_t ml = strlen(p->me);
    if (a->len + 1 + ml > ADDR_MAX) return -1;
    a->s[a->len] = '@';
    memcpy(a->s + a->len + 1, p->me, ml + 1);
    a->at = a->len;
    a->len += 1 + ml;
    a->flags &= ~(unsigned)ADDR_F_NODOMAIN;
  }
  if ((a->flags & ADDR_F_LITERAL) && p->localip) {
    const char *lit = a->s + a->at + 1;
    size_t ll = a->len - a->at - 1, il = strlen(p->localip);
    int v6 = ll > 6 && !strncasecmp(lit, "[IPv6:", 6);
    size_t off = v6 ? 6 : 1;
    if (ll == off + il + 1 && !strncasecmp(lit + off, p->localip, il) && lit[ll - 1] == ']') {
      size_t hl = strlen(p->localiphost);
      if (a->at + 1 + hl <= ADDR_MAX) {
        memcpy(a->s + a->at + 1, p->localiphost, hl + 1);
        a->len = a->at + 1 + hl;
        a->flags &= ~(unsigned)ADDR_F_LITERAL;
      }
    }
  }
  return 0;
}

/* relay control: RCPT_OK or a refusal */
static int relay(const struct rcpt_policy *p, const struct addr *a)
{
  char dom[ADDR_DOMAIN_MAX + 1];
  size_t dl = addr_domain_lower(a, dom);
  int r;
  if (p->relayclient) return RCPT_OK;
  r = rcpthost_ok(p, dom, dl);
  if (r < 0) return RCPT_E_MRH;
  if (!r) return RCPT_E_RELAY;
  /* never let a local part carry another route (percent hack, bang path,
     quoted '@'): refused unless the client may relay anyway */
  for (size_t i = 0; i < a->at; i++)
    if (a->s[i] == '%' || a->s[i] == '@' || a->s[i] == '!') return RCPT_E_ROUTE;
  return RCPT_OK;
}

/* 1 deliverable (or not ours to check), 0 unknown local recipient, -1 error */
static int deliverable(const struct rcpt_policy *p, const struct addr *a)
{
  char L[RCPT_LOCAL_MAX];
  size_t ll;
  if (!p->recipients) return 1;
  if (rcpt_local(a->s, a->len, p->locals, p->vdoms, L, &ll) <= 0) return 1;
  return rcpt_known(L, ll, p->recipients, p->rcpts_ctx);
}

int rcpt_check(const struct rcpt_policy *p, struct addr *a, int badmailfrom)
{
  int pm = addr_is_postmaster(a), r;
  if (rewrite(p, a) < 0) return RCPT_E_TOOLONG;
  if ((r = relay(p, a)) != RCPT_OK) return r;
  if (!pm) {
    if (badmailfrom) return RCPT_E_BADMAILFROM;
    if (rcpt_listed(p->badrcptto, a)) return RCPT_E_BADRCPTTO;
    r = deliverable(p, a);
    if (r < 0) return RCPT_E_CHECK;
    if (!r) return RCPT_E_UNKNOWN;
  }
  if (p->relayclient && *p->relayclient) {
    size_t rl = strlen(p->relayclient);
    if (a->len + rl > ADDR_MAX) return RCPT_E_TOOLONG;
    memcpy(a->s + a->len, p->relayclient, rl + 1);
    a->len += rl;
  }
  return RCPT_OK;
}

static const struct { const char *reply, *log; } says[] = {
  [RCPT_OK] = { "250 2.1.5 ok", 0 },
  [RCPT_E_TOOLONG] = { "553 5.1.3 address too long", 0 },
  [RCPT_E_RELAY] = { "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts", "relay refused" },
  [RCPT_E_ROUTE] = { "553 5.7.1 sorry, '%', '!' and '@' are not allowed in the local part here", "route in local part refused" },
  [RCPT_E_BADMAILFROM] = { "553 5.7.1 sorry, your envelope sender is in my badmailfrom list", "badmailfrom" },
  [RCPT_E_BADRCPTTO] = { "553 5.7.1 sorry, that address is in my badrcptto list", "badrcptto" },
  [RCPT_E_UNKNOWN] = { "550 5.1.1 sorry, no mailbox here by that name", "unknown recipient" },
  [RCPT_E_CHECK] = { "451 4.3.0 unable to check the recipient, try again later", 0 },
  [RCPT_E_MRH] = { "421 4.3.0 unable to read controls", 0 },
};

const char *rcpt_reply(int r)
{
  if (r < 0 || (size_t)r >= sizeof says / sizeof says[0]) r = RCPT_E_CHECK;
  return says[r].reply;
}

const char *rcpt_logwhat(int r)
{
  if (r < 0 || (size_t)r >= sizeof says / sizeof says[0]) return 0;
  return says[r].log;
}
