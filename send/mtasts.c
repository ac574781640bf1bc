/* send/mtasts.c: MTA-STS policy file, TXT record, MX matching and cache
   entry (mtasts.h). */
#include <string.h>
#include "send/mtasts.h"

static const char *const modes[] = { "none", "testing", "enforce" };

const char *mtasts_mode_name(enum mtasts_mode m)
{
  return (unsigned)m < sizeof modes / sizeof modes[0] ? modes[m] : "?";
}

static int wsp(char c) { return c == ' ' || c == '\t'; }
static char low(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* s[0..n) equals the lower-case word w, in any case */
static int eqword(const char *s, size_t n, const char *w)
{
  if (strlen(w) != n) return 0;
  for (size_t i = 0; i < n; i++) if (low(s[i]) != w[i]) return 0;
  return 1;
}

/* a host name (labels of letters, digits and '-', 1..63 bytes, not
   starting or ending with '-'), optionally after "*."; into out, lower
   case, a trailing dot dropped. 0 or -1 */
static int mxname(const char *s, size_t n, char *out)
{
  size_t i = 0, lab = 0;
  if (n && s[n - 1] == '.') n--;
  if (!n || n > ADDR_DOMAIN_MAX) return -1;
  if (n > 2 && s[0] == '*' && s[1] == '.') { out[0] = '*'; out[1] = '.'; i = 2; }
  for (size_t k = i; k < n; k++) {
    char c = low(s[k]);
    if (c == '.') {
      if (!lab || s[k - 1] == '-') return -1;
      lab = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
      if ((!lab && c == '-') || ++lab > 63) return -1;
    } else return -1;
    out[k] = c;
  }
  if (!lab || s[n - 1] == '-') return -1;
  out[n] = 0;
  return 0;
}

/* one "key: value" line l[0..n) into pol; seen: bit 1 version, 2 mode,
   4 max_age. 0 or -1 */
static int field(const char *l, size_t n, struct mtasts_policy *pol, int *seen)
{
  const char *colon = memchr(l, ':', n);
  size_t k, v, vn;
  if (!colon || colon == l) return -1;
  k = (size_t)(colon - l);
  v = k + 1;
  while (v < n && wsp(l[v])) v++;
  vn = n - v;
  while (vn && wsp(l[v + vn - 1])) vn--;
  if (eqword(l, k, "version")) {
    if (!(*seen & 1) && (vn != 5 || memcmp(l + v, "STSv1", 5))) return -1;
    *seen |= 1;
  } else if (eqword(l, k, "mode")) {
    if (*seen & 2) return 0;
    if (eqword(l + v, vn, "enforce")) pol->mode = MTASTS_ENFORCE;
    else if (eqword(l + v, vn, "testing")) pol->mode = MTASTS_TESTING;
    else if (eqword(l + v, vn, "none")) pol->mode = MTASTS_NONE;
    else return -1;
    *seen |= 2;
  } else if (eqword(l, k, "max_age")) {
    unsigned long a = 0;
    if (*seen & 4) return 0;
    if (!vn || vn > 10) return -1;
    for (size_t i = 0; i < vn; i++) {
      if (l[v + i] < '0' || l[v + i] > '9') return -1;
      a = a * 10 + (unsigned long)(l[v + i] - '0');
    }
    if (a > MTASTS_MAXAGE_MAX) return -1;
    pol->max_age = a;
    *seen |= 4;
  } else if (eqword(l, k, "mx")) {
    if (pol->nmx == MTASTS_MX_MAX || mxname(l + v, vn, pol->mx[pol->nmx]) < 0) return -1;
    pol->nmx++;
  }
  return 0;
}

int mtasts_parse(const char *p, size_t len, struct mtasts_policy *pol)
{
  size_t i = 0;
  int seen = 0;
  memset(pol, 0, sizeof *pol);
  if (len > MTASTS_POLICY_MAX) return -1;
  while (i < len) {
    size_t e = i, n;
    while (e < len && p[e] != '\n') e++;
    n = e - i;
    if (n && p[i + n - 1] == '\r') n--;
    for (size_t k = i; k < i + n; k++)
      if (((unsigned char)p[k] < 32 && p[k] != '\t') || p[k] == 127) goto bad;
    if (n && field(p + i, n, pol, &seen) < 0) goto bad;
    i = e + 1;
  }
  if (seen != 7 || (pol->mode != MTASTS_NONE && !pol->nmx)) goto bad;
  return 0;
bad:
  memset(pol, 0, sizeof *pol);
  return -1;
}

int mtasts_txt(const char *s, size_t len, char id[MTASTS_ID_MAX + 1])
{
  size_t i = 7;
  int haveid = 0;
  if (len < 7 || memcmp(s, "v=STSv1", 7)) return 0;
  id[0] = 0;
  for (;;) {
    size_t a, eq = 0;
    while (i < len && wsp(s[i])) i++;
    if (i == len) break;
    if (s[i] != ';') return -1;
    i++;
    while (i < len && wsp(s[i])) i++;
    if (i == len) break;                       /* a final ';' */
    for (a = i; i < len && s[i] != ';' && !wsp(s[i]); i++) if (s[i] == '=' && !eq) eq = i;
    if (!eq || eq == a) return -1;
    if (eq - a == 2 && !memcmp(s + a, "id", 2) && !haveid) {
      size_t n = i - eq - 1;
      if (!n || n > MTASTS_ID_MAX) return -1;
      for (size_t k = 0; k < n; k++) {
        char c = s[eq + 1 + k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return -1;
        id[k] = c;
      }
      id[n] = 0;
      haveid = 1;
    }
  }
  return haveid ? 1 : -1;
}

int mtasts_domain_ok(const char *d)
{
  size_t n = strlen(d);
  if (!n || n > ADDR_DOMAIN_MAX - 8 || d[0] == '.' || d[0] == '-' || strstr(d, "..")) return 0;
  return strspn(d, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

int mtasts_mx_match(const struct mtasts_policy *pol, const char *host)
{
  char h[ADDR_DOMAIN_MAX + 1];
  size_t n = strlen(host);
  if (n && host[n - 1] == '.') n--;
  if (!n || n > ADDR_DOMAIN_MAX) return 0;
  for (size_t k = 0; k < n; k++) h[k] = low(host[k]);
  h[n] = 0;
  for (int k = 0; k < pol->nmx; k++) {
    const char *m = pol->mx[k];
    if (m[0] == '*') {
      const char *dot = strchr(h, '.');
      if (dot && dot != h && !strcmp(dot + 1, m + 2)) return 1;
    } else if (!strcmp(h, m)) return 1;
  }
  return 0;
}

/* an unsigned decimal number of 1..19 digits without a leading zero at
   s[*i], then end */
static int num(const char *s, size_t len, size_t *i, unsigned long long *v, char end)
{
  size_t d = 0, a = *i;
  *v = 0;
  while (*i < len && s[*i] >= '0' && s[*i] <= '9' && d < 19) { *v = *v * 10 + (unsigned)(s[*i] - '0'); (*i)++; d++; }
  if (!d || (d > 1 && s[a] == '0') || *i == len || s[*i] != end) return -1;
  (*i)++;
  return 0;
}

int mtasts_cache_parse(const char *b, size_t len, struct mtasts_cache *c)
{
  size_t i = 15, a;
  memset(c, 0, sizeof *c);
  if (len > MTASTS_CACHE_MAX || len < 15 || memcmp(b, "tern-mta-sts 1 ", 15)) return -1;
  for (a = i; i < len && b[i] != ' '; i++) {
    char ch = b[i];
    if (i - a >= MTASTS_ID_MAX) goto bad;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        && !(ch == '-' && i == a && i + 1 < len && b[i + 1] == ' ')) goto bad;
    c->id[i - a] = ch;
  }
  if (i == a || i == len) goto bad;
  if (c->id[0] == '-') c->id[0] = 0;
  i++;
  if (num(b, len, &i, &c->fetched, ' ') < 0 || num(b, len, &i, &c->expires, ' ') < 0
      || num(b, len, &i, &c->checked, '\n') < 0) goto bad;
  for (a = i; i < len && b[i] != '\n'; i++) {
    if (i - a >= MTASTS_NOTE_MAX || b[i] < 32 || b[i] > 126) goto bad;
    c->note[i - a] = b[i];
  }
  if (i == a || i == len) goto bad;
  i++;
  if (!c->id[0]) { if (i != len) goto bad; return 0; }
  if (mtasts_parse(b + i, len - i, &c->pol) < 0) goto bad;
  c->havepolicy = 1;
  return 0;
bad:
  memset(c, 0, sizeof *c);
  return -1;
}

static size_t fmtull(char *b, unsigned long long u)
{
  char t[24];
  size_t n = 0, k = 0;
  do t[n++] = (char)('0' + u % 10); while (u /= 10);
  while (n) b[k++] = t[--n];
  return k;
}

size_t mtasts_cache_head(char *buf, const char *id, unsigned long long fetched,
                         unsigned long long expires, unsigned long long checked, const char *note)
{
  size_t n = 15, k;
  memcpy(buf, "tern-mta-sts 1 ", 15);
  if (!id[0]) buf[n++] = '-';
  for (k = 0; id[k] && k < MTASTS_ID_MAX; k++) buf[n++] = id[k];
  buf[n++] = ' ';
  n += fmtull(buf + n, fetched); buf[n++] = ' ';
  n += fmtull(buf + n, expires); buf[n++] = ' ';
  n += fmtull(buf + n, checked); buf[n++] = '\n';
  for (k = 0; note[k] && k < MTASTS_NOTE_MAX; k++)
    buf[n++] = note[k] >= 32 && note[k] <= 126 ? note[k] : '?';
  if (!k) buf[n++] = '-';
  buf[n++] = '\n';
  return n;
}
