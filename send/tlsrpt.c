/* send/tlsrpt.c: the TLS-RPT record, a day's sums and the JSON report
   (tlsrpt.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "send/tlsrpt.h"

/* ---- the TXT record (RFC 8460 3) ---- */

static int wsp(char c) { return c == ' ' || c == '\t'; }
static int alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* the mailto: URI u[0..n) into a (ADDR_MAX+1): 1 an address, 0 another
   scheme, -1 malformed */
static int mailto(const char *u, size_t n, char *a)
{
  size_t k = 0, at = 0, i;
  if (n < 7 || strncasecmp(u, "mailto:", 7)) {
    for (i = 0; i < n && u[i] != ':'; i++) if (!alnum(u[i]) && u[i] != '+' && u[i] != '-' && u[i] != '.') return -1;
    return i && i < n ? 0 : -1;
  }
  for (i = 7; i < n && u[i] != '?'; i++) {
    char c = u[i];
    if (c == '%') {
      int h, l;
      if (i + 2 >= n || (h = hexval(u[i + 1])) < 0 || (l = hexval(u[i + 2])) < 0) return -1;
      c = (char)(h * 16 + l);
      i += 2;
    }
    if ((unsigned char)c < 33 || (unsigned char)c > 126 || strchr("<>()[],;:\\\"", c) || k == ADDR_MAX) return -1;
    if (c == '@') at++;
    a[k++] = c;
  }
  a[k] = 0;
  if (at != 1 || a[0] == '@' || a[k - 1] == '@') return -1;
  return 1;
}

/* rua=v[0..n): its mailto addresses into rua from *nr; 0 or -1 */
static int ruas(const char *v, size_t n, char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1], int *nr)
{
  size_t i = 0;
  for (;;) {
    size_t b = i, e;
    char a[ADDR_MAX + 1];
    int r;
    while (i < n && v[i] != ',') i++;
    e = i;
    while (e > b && wsp(v[e - 1])) e--;
    while (b < e && wsp(v[b])) b++;
    if (b == e || (r = mailto(v + b, e - b, a)) < 0) return -1;
    if (r && *nr < TLSRPT_RUA_MAX) memcpy(rua[(*nr)++], a, strlen(a) + 1);
    if (i == n) return 0;
    i++;
  }
}

int tlsrpt_txt(const char *s, size_t n, char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1])
{
  size_t i = 10;
  int nr = 0, seen = 0;
  if (n < 11 || memcmp(s, "v=TLSRPTv1", 10)) return -1;
  { size_t k = 10; while (k < n && wsp(s[k])) k++; if (k == n || s[k] != ';') return -1; }
  for (;;) {
    size_t b, e, eq;
    while (i < n && wsp(s[i])) i++;
    if (i == n) break;
    if (s[i] != ';') return -2;
    i++;
    while (i < n && wsp(s[i])) i++;
    if (i == n) break;                    /* a trailing ";" */
    b = i;
    while (i < n && s[i] != ';') i++;
    e = i;
    while (e > b && wsp(s[e - 1])) e--;
    for (eq = b; eq < e && s[eq] != '='; eq++)
      if (!alnum(s[eq]) && !(eq > b && (s[eq] == '_' || s[eq] == '-' || s[eq] == '.'))) return -2;
    if (eq == b || eq == e || eq - b > 32) return -2;
    if (eq - b == 3 && !memcmp(s + b, "rua", 3)) {
      if (seen++ || ruas(s + eq + 1, e - eq - 1, rua, &nr) < 0) return -2;
    } else {
      for (size_t k = eq + 1; k < e; k++)
        if ((unsigned char)s[k] < 0x21 || (unsigned char)s[k] > 0x7e || s[k] == '=' || s[k] == ';') return -2;
      if (eq + 1 == e) return -2;
    }
  }
  return seen ? nr : -2;
}

int tlsrpt_records(const char *const *recs, const size_t *lens, int n, char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1])
{
  int found = -1, count = 0;
  for (int i = 0; i < n; i++) {
    size_t k = 10;
    if (lens[i] < 11 || memcmp(recs[i], "v=TLSRPTv1", 10)) continue;
    while (k < lens[i] && wsp(recs[i][k])) k++;
    if (k == lens[i] || recs[i][k] != ';') continue;
    count++;
    found = i;
  }
  if (count != 1) return -1;
  count = tlsrpt_txt(recs[found], lens[found], rua);
  return count < 0 ? -1 : count;
}

/* ---- a day's sums ---- */

static int same(const char *a, const char *b) { return !strcmp(a, b); }

static char *dup(const char *s, int *fail)
{
  char *d = strdup(s);
  if (!d) *fail = 1;
  return d;
}

/* the array a of n elements of sz bytes with room for one more (grown by
   step at a time): a itself or its new place; 0 out of memory (a kept) */
static void *grow(void *a, int n, int step, size_t sz)
{
  return n % step ? a : realloc(a, (size_t)(n + step) * sz);
}

static struct tlsrpt_domain *domain(struct tlsrpt_day *d, const char *name)
{
  struct tlsrpt_domain *x;
  int fail = 0;
  for (int i = 0; i < d->ndom; i++) if (same(d->dom[i].name, name)) return &d->dom[i];
  if (d->ndom == TLSRPT_DOMAINS_MAX) return 0;
  if (!(x = grow(d->dom, d->ndom, 16, sizeof *x))) return 0;
  d->dom = x;
  x = &d->dom[d->ndom];
  memset(x, 0, sizeof *x);
  x->name = dup(name, &fail);
  if (fail) return 0;
  d->ndom++;
  return x;
}

static struct tlsrpt_policy *policy(struct tlsrpt_domain *dom, const char *ptype, const char *mx, const char *pol)
{
  struct tlsrpt_policy *p;
  int fail = 0;
  for (int i = 0; i < dom->np; i++)
    if (same(dom->p[i].ptype, ptype) && same(dom->p[i].mx, mx) && same(dom->p[i].pol, pol)) return &dom->p[i];
  if (dom->np == TLSRPT_POLICIES_MAX) return 0;
  if (!(p = grow(dom->p, dom->np, 8, sizeof *p))) return 0;
  dom->p = p;
  p = &dom->p[dom->np];
  memset(p, 0, sizeof *p);
  p->ptype = dup(ptype, &fail);
  p->mx = dup(mx, &fail);
  p->pol = dup(pol, &fail);
  if (fail) { free(p->ptype); free(p->mx); free(p->pol); return 0; }
  dom->np++;
  return p;
}

static void detail(struct tlsrpt_policy *p, const struct rptlog *r)
{
  struct tlsrpt_detail *x;
  int fail = 0;
  for (int i = 0; i < p->nd; i++) {
    x = &p->d[i];
    if (same(x->result, r->result) && same(x->sendip, r->sendip) && same(x->rcvip, r->rcvip)
        && same(x->mx, r->mx) && same(x->info, r->info)) { x->n++; return; }
  }
  if (p->nd == TLSRPT_DETAILS_MAX) return;
  if (!(x = grow(p->d, p->nd, 8, sizeof *x))) return;
  p->d = x;
  x = &p->d[p->nd];
  x->result = dup(r->result, &fail); x->sendip = dup(r->sendip, &fail); x->rcvip = dup(r->rcvip, &fail);
  x->mx = dup(r->mx, &fail); x->info = dup(r->info, &fail);
  x->n = 1;
  if (fail) { free(x->result); free(x->sendip); free(x->rcvip); free(x->mx); free(x->info); return; }
  p->nd++;
}

int tlsrpt_add(struct tlsrpt_day *d, const struct rptlog *r)
{
  struct tlsrpt_domain *dom = domain(d, r->domain);
  int sts = same(r->ptype, "sts");
  struct tlsrpt_policy *p = dom ? policy(dom, r->ptype, sts || same(r->ptype, "no-policy-found") ? "" : r->mx,
                                         sts && !same(r->policy, "-") ? r->policy : "") : 0;
  if (!p) { d->dropped++; return dom || d->ndom == TLSRPT_DOMAINS_MAX ? 0 : -1; }
  if (same(r->result, "success")) p->ok++;
  else { p->fail++; detail(p, r); }
  return 0;
}

void tlsrpt_free(struct tlsrpt_day *d)
{
  for (int i = 0; i < d->ndom; i++) {
    struct tlsrpt_domain *dom = &d->dom[i];
    for (int j = 0; j < dom->np; j++) {
      struct tlsrpt_policy *p = &dom->p[j];
      for (int k = 0; k < p->nd; k++) {
        free(p->d[k].result); free(p->d[k].sendip); free(p->d[k].rcvip); free(p->d[k].mx); free(p->d[k].info);
      }
      free(p->d); free(p->ptype); free(p->mx); free(p->pol);
    }
    free(dom->p); free(dom->name);
  }
  free(d->dom);
  memset(d, 0, sizeof *d);
}

/* ---- the JSON report (RFC 8460 4) ---- */

struct buf { char *s; size_t n, cap; int fail; };

static void put(struct buf *b, const char *s, size_t n)
{
  if (b->fail) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
    char *x = realloc(b->s, cap);
    if (!x) { b->fail = 1; return; }
    b->s = x; b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = 0;
}
static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* s[0..n) inside a JSON string: quotes, backslash and control bytes
   escaped; bytes >= 0x80 (never in a record line) as \u00XX */
static void esc(struct buf *b, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  for (; n; s++, n--) {
    unsigned char c = (unsigned char)*s;
    char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
    if (c == '"' || c == '\\') { put(b, "\\", 1); put(b, s, 1); }
    else if (c < 32 || c >= 127) put(b, e, 6);
    else put(b, s, 1);
  }
}

/* a JSON string */
static void str(struct buf *b, const char *s)
{
  put(b, "\"", 1); esc(b, s, strlen(s)); put(b, "\"", 1);
}

static void num(struct buf *b, unsigned long u)
{
  char d[24];
  size_t k = 0;
  do d[k++] = (char)('0' + u % 10); while (u /= 10);
  while (k) put(b, &d[--k], 1);
}

static void field(struct buf *b, const char *name, const char *v)
{
  str(b, name); put(b, ":", 1); str(b, v);
}

/* one JSON array element: a comma unless it is the first, then the
   string prefix and s[0..n) */
static void item(struct buf *b, int *first, const char *prefix, const char *s, size_t n)
{
  if (!*first) put(b, ",", 1);
  *first = 0;
  put(b, "\"", 1); esc(b, prefix, strlen(prefix)); esc(b, s, n); put(b, "\"", 1);
}

/* the JSON array of an sts POLICY word pol (MODE,MAX_AGE[,MX]...,
   checked by rptlog_parse): its policy-string lines in the order of RFC
   8461 3.2, or (mxonly) its mx patterns, the mx-host list */
static void stsarray(struct buf *b, const char *pol, int mxonly)
{
  const char *age = strchr(pol, ','), *mx;
  int first = 1;
  age = age ? age + 1 : pol + strlen(pol);
  mx = strchr(age, ',');
  put(b, "[", 1);
  if (!mxonly) {
    item(b, &first, "version: STSv1", "", 0);
    item(b, &first, "mode: ", pol, *age ? (size_t)(age - 1 - pol) : strlen(pol));
  }
  for (const char *x = mx; x; x = strchr(x + 1, ','))
    item(b, &first, mxonly ? "" : "mx: ", x + 1, strcspn(x + 1, ","));
  if (!mxonly) item(b, &first, "max_age: ", age, mx ? (size_t)(mx - age) : strlen(age));
  put(b, "]", 1);
}

static void onepolicy(struct buf *b, const char *domain, const struct tlsrpt_policy *p)
{
  puts_(b, "{\"policy\":{");
  field(b, "policy-type", p->ptype); put(b, ",", 1);
  if (p->pol[0]) { puts_(b, "\"policy-string\":"); stsarray(b, p->pol, 0); put(b, ",", 1); }
  field(b, "policy-domain", domain);
  if (p->mx[0]) { puts_(b, ",\"mx-host\":["); str(b, p->mx); puts_(b, "]"); }
  if (p->pol[0]) { puts_(b, ",\"mx-host\":"); stsarray(b, p->pol, 1); }
  puts_(b, "},\"summary\":{\"total-successful-session-count\":"); num(b, p->ok);
  puts_(b, ",\"total-failure-session-count\":"); num(b, p->fail); puts_(b, "}");
  if (p->nd) {
    puts_(b, ",\"failure-details\":[");
    for (int k = 0; k < p->nd; k++) {
      const struct tlsrpt_detail *x = &p->d[k];
      if (k) put(b, ",", 1);
      put(b, "{", 1);
      field(b, "result-type", x->result);
      if (strcmp(x->sendip, "-")) { put(b, ",", 1); field(b, "sending-mta-ip", x->sendip); }
      if (strcmp(x->rcvip, "-")) { put(b, ",", 1); field(b, "receiving-ip", x->rcvip); }
      if (strcmp(x->mx, "-")) { put(b, ",", 1); field(b, "receiving-mx-hostname", x->mx); }
      puts_(b, ",\"failed-session-count\":"); num(b, x->n);
      if (strcmp(x->info, "-")) { put(b, ",", 1); field(b, "additional-information", x->info); }
      put(b, "}", 1);
    }
    put(b, "]", 1);
  }
  put(b, "}", 1);
}

char *tlsrpt_json(const struct tlsrpt_domain *dom, const struct tlsrpt_meta *m, size_t *len)
{
  struct buf b = { 0, 0, 0, 0 };
  char t[32];
  put(&b, "{", 1);
  field(&b, "organization-name", m->org);
  puts_(&b, ",\"date-range\":{");
  memcpy(t, m->day, 10); memcpy(t + 10, "T00:00:00Z", 11);
  field(&b, "start-datetime", t); put(&b, ",", 1);
  memcpy(t + 10, "T23:59:59Z", 11);
  field(&b, "end-datetime", t);
  puts_(&b, "},");
  field(&b, "contact-info", m->contact); put(&b, ",", 1);
  field(&b, "report-id", m->reportid);
  puts_(&b, ",\"policies\":[");
  for (int i = 0; i < dom->np; i++) {
    if (i) put(&b, ",", 1);
    onepolicy(&b, dom->name, &dom->p[i]);
  }
  puts_(&b, "]}\n");
  if (b.fail) { free(b.s); return 0; }
  *len = b.n;
  return b.s;
}
