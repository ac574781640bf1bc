/* send/remote-tlspol.c: the TLS policy file (remote-tlspol.h). */
#include <string.h>
#include "send/remote-tlspol.h"

static const char *const levels[] = { "none", "may", "encrypt", "verify", "dane", "dane-only" };

const char *tlspol_name(enum tlspol_level l)
{
  return (unsigned)l < sizeof levels / sizeof levels[0] ? levels[l] : "?";
}

static int sp(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* the names of "match=a:b" in v[0..n) */
static int names(const char *v, size_t n, struct tlspol *p)
{
  size_t a = 0;
  while (a <= n) {
    size_t b = a;
    while (b < n && v[b] != ':') b++;
    if (b == a || b - a > ADDR_DOMAIN_MAX || p->nnames == TLSPOL_NAMES_MAX) return -1;
    for (size_t k = a; k < b; k++) {
      char c = v[k];
      if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return -1;
      p->names[p->nnames][k - a] = c;
    }
    p->names[p->nnames++][b - a] = 0;
    a = b + 1;
  }
  return 0;
}

int tlspol_parse(const char *v, struct tlspol *p)
{
  size_t i = 0, n;
  int lv = -1;
  memset(p, 0, sizeof *p);
  p->level = TLSPOL_MAY;
  while (sp(v[i])) i++;
  for (n = 0; v[i + n] && !sp(v[i + n]); n++) ;
  for (size_t k = 0; k < sizeof levels / sizeof levels[0]; k++)
    if (strlen(levels[k]) == n && !memcmp(levels[k], v + i, n)) lv = (int)k;
  if (lv < 0) return -1;
  i += n;
  for (;;) {
    while (sp(v[i])) i++;
    if (!v[i]) break;
    for (n = 0; v[i + n] && !sp(v[i + n]); n++) ;
    if (n < 6 || memcmp(v + i, "match=", 6) || names(v + i + 6, n - 6, p) < 0) {
      memset(p, 0, sizeof *p);
      p->level = TLSPOL_MAY;
      return -1;
    }
    i += n;
  }
  p->level = (enum tlspol_level)lv;
  return 0;
}

/* the value of the line whose key is key[0..kl), or 0 */
static const char *find(const struct ctl_list *l, const char *key, size_t kl)
{
  size_t pos = 0;
  const char *e;
  while ((e = ctl_listnext(l, &pos))) {
    const char *colon = strchr(e, ':');
    size_t k;
    if (!colon || (size_t)(colon - e) != kl) continue;
    for (k = 0; k < kl; k++) {
      char c = e[k];
      if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
      if (c != key[k]) break;
    }
    if (k == kl) return colon + 1;
  }
  return 0;
}

int tlspol_lookup(const struct ctl_list *l, const char *host, struct tlspol *p)
{
  const char *v = find(l, host, strlen(host));
  for (const char *d = host; !v && *d; d++) if (*d == '.') v = find(l, d, strlen(d));
  if (!v) v = find(l, "", 0);
  memset(p, 0, sizeof *p);
  p->level = TLSPOL_MAY;
  if (!v) return 0;
  return tlspol_parse(v, p) < 0 ? -1 : 1;
}
