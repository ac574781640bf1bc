/* authsender: the senders of an authenticated user. See authsender.h. */
#include <string.h>
#include <strings.h>
#include "smtpd/authsender.h"

static int eqi(const char *a, size_t an, const char *b, size_t bn)
{
  return an == bn && !strncasecmp(a, b, an);
}

/* s[0..n) is user "@" domain */
static int is_at(const char *s, size_t n, const char *user, const char *domain)
{
  size_t ul = strlen(user), dl = strlen(domain);
  return n == ul + 1 + dl && !memcmp(s, user, ul) && s[ul] == '@'
    && !strncasecmp(s + ul + 1, domain, dl);
}

int authsender_ok(const struct ctl_list *map, const struct ctl_list *locals,
                  const char *user, const char *s, size_t n)
{
  const char *e, *at = 0;
  size_t pos = 0, ul = strlen(user);
  if (!n) return 1;
  for (size_t i = n; i-- > 0;) if (s[i] == '@') { at = s + i; break; }
  if (strchr(user, '@')) {
    if (eqi(user, ul, s, n)) return 1;
  } else if (locals) {
    while ((e = ctl_listnext(locals, &pos)))
      if (*e != '.' && is_at(s, n, user, e)) return 1;
  }
  pos = 0;
  while (map && (e = ctl_listnext(map, &pos))) {
    const char *v;
    size_t vl;
    if (strncmp(e, user, ul) || e[ul] != ':') continue;
    v = e + ul + 1;
    vl = strlen(v);
    if (eqi(v, vl, s, n)) return 1;
    if (v[0] == '@' && at && eqi(v + 1, vl - 1, at + 1, n - (size_t)(at + 1 - s))) return 1;
  }
  return 0;
}
