/* dtscan: Delivered-To loops at DATA time. See dtscan.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smtpd/dtscan.h"

void dtscan_init(struct dtscan *d)
{
  d->n = 0;
  d->toolong = 0;
  d->done = 0;
  d->hit = 0;
}

int dtscan_add(struct dtscan_set *set, const char *a, size_t len)
{
  if (set->len + len + 1 > set->cap) {
    size_t nc = set->cap ? set->cap * 2 : 1024;
    char *p;
    while (nc < set->len + len + 1) nc *= 2;
    p = realloc(set->s, nc);
    if (!p) return 0;
    set->s = p;
    set->cap = nc;
  }
  memcpy(set->s + set->len, a, len);
  set->s[set->len + len] = 0;
  set->len += len + 1;
  set->n++;
  return 1;
}

void dtscan_free(struct dtscan_set *set)
{
  free(set->s);
  set->s = 0;
  set->len = set->cap = set->n = 0;
}

static int in_set(const struct dtscan_set *set, const char *v, size_t n)
{
  size_t pos = 0;
  while (pos < set->len) {
    size_t k = strlen(set->s + pos);
    if (k == n && !strncasecmp(set->s + pos, v, n)) return 1;
    pos += k + 1;
  }
  return 0;
}

static void line_end(struct dtscan *d, const struct dtscan_set *set)
{
  size_t n = d->n;
  if (n && d->line[n - 1] == '\r') n--;
  if (!n) { d->done = 1; return; }
  if (!d->toolong && n > 14 && !strncasecmp(d->line, "delivered-to: ", 14)
      && in_set(set, d->line + 14, n - 14))
    d->hit = 1;
}

int dtscan_feed(struct dtscan *d, const char *s, size_t n, const struct dtscan_set *set)
{
  for (size_t i = 0; i < n && !d->done && !d->hit; i++) {
    if (s[i] == '\n') {
      line_end(d, set);
      d->n = 0;
      d->toolong = 0;
      continue;
    }
    if (d->n < DTSCAN_LINE_MAX) d->line[d->n++] = s[i];
    else d->toolong = 1;
  }
  return d->hit;
}

int dtscan_rcpt(struct dtscan_set *set, const char *r, size_t len, const struct sched_ctl *ctl)
{
  char out[SCHED_REWRITE_MAX], alias[10 + SCHED_REWRITE_MAX];
  size_t n, pre, at;
  if (sched_classify(r, len, ctl, out, &n, &pre) != SCHED_LOCAL) return 1;
  if (!dtscan_add(set, out, n)) return 0;
  if (pre) return 1;
  /* a local domain: an address no user owns goes to ternalias as an extension */
  for (at = n; at > 0 && out[at - 1] != '@'; at--) ;
  memcpy(alias, "ternalias-", 10);
  for (size_t i = 0; i < n; i++)
    alias[10 + i] = (i + 1 < at && out[i] >= 'A' && out[i] <= 'Z') ? (char)(out[i] + 32) : out[i];
  return dtscan_add(set, alias, 10 + n);
}
