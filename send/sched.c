/* sched: tern-send's pure logic. libc only, no I/O; see sched.h. */
#include <string.h>
#include "send/sched.h"
#include "common/addr.h"
#include "common/qfn.h"

static int lc(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int caseeq(const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) if (lc((unsigned char)a[i]) != lc((unsigned char)b[i])) return 0;
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

int sched_classify(const char *a, size_t len, const struct ctl_list *locals,
                   const struct ctl_list *vd, const char *envnoathost, char *out, size_t *outlen)
{
  char buf[SCHED_REWRITE_MAX];
  size_t n = len, at, dlen;
  const char *dom, *p, *pre = 0;
  if (len > ADDR_MAX) return SCHED_TOOLONG;
  memcpy(buf, a, len);
  if (!memchr(a, '@', len)) {
    size_t el = strlen(envnoathost);
    if (len + 1 + el > ADDR_MAX) return SCHED_TOOLONG;
    buf[n++] = '@';
    memcpy(buf + n, envnoathost, el);
    n += el;
  }
  buf[n] = 0;
  for (at = n; at > 0 && buf[at - 1] != '@'; at--) ;
  dom = buf + at;          /* at >= 1: there is an '@' */
  dlen = n - at;
  if (ctl_domain_match(locals, dom, dlen)) {
    memcpy(out, buf, n + 1);
    *outlen = n;
    return SCHED_LOCAL;
  }
  /* reference/qmail.md 4.2 step 4: user@domain, domain, .suffixes, "" */
  pre = vd_find(vd, buf, n);
  if (!pre && dlen) pre = vd_find(vd, dom, dlen);
  for (p = dom; !pre && p < dom + dlen; p++)
    if (*p == '.') pre = vd_find(vd, p, dlen - (size_t)(p - dom));
  if (!pre) pre = vd_find(vd, "", 0);
  if (pre && *pre) {
    size_t pl = strlen(pre);
    if (pl + 1 + n > ADDR_MAX) return SCHED_TOOLONG;
    memcpy(out, pre, pl);
    out[pl] = '-';
    memcpy(out + pl + 1, buf, n + 1);
    *outlen = pl + 1 + n;
    return SCHED_LOCAL;
  }
  memcpy(out, buf, n + 1);
  *outlen = n;
  return SCHED_REMOTE;
}

static uint64_t isqrt(uint64_t x)
{
  uint64_t r = 0, b = (uint64_t)1 << 62;
  while (b > x) b >>= 2;
  while (b) {
    if (x >= r + b) { x -= r + b; r = (r >> 1) + b; }
    else r >>= 1;
    b >>= 2;
  }
  return r;
}

time_t sched_nextretry(time_t birth, time_t now, unsigned skip)
{
  uint64_t age = now > birth ? (uint64_t)(now - birth) : 0;
  uint64_t s = isqrt(age) + skip;
  return birth + (time_t)(s * s);
}

size_t sched_logsafe(char *dst, const char *s, size_t len)
{
  if (dst)
    for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)s[i];
      dst[i] = c == '\n' ? '/' : (c < 0x21 || c > 0x7e) ? '_' : (char)c;
    }
  return len;
}

size_t sched_bounce_para(char *dst, const char *rcpt, size_t rlen, const char *rep, size_t replen)
{
  size_t n = 0;
#define PUT(c) do { if (dst) dst[n] = (c); n++; } while (0)
  PUT('<');
  for (size_t i = 0; i < rlen; i++) PUT(rcpt[i] == '\n' || !rcpt[i] ? '_' : rcpt[i]);
  PUT('>'); PUT(':'); PUT('\n');
  for (size_t i = 0; i < replen; i++) {
    char c = rep[i];
    if (!c) c = '_';
    if (c == '\n' && i && rep[i - 1] == '\n') c = '/';
    PUT(c);
  }
  if (!replen || rep[replen - 1] != '\n') PUT('\n');
  PUT('\n');
#undef PUT
  return n;
}

void sched_status(const char *t, size_t len, char *out)
{
  const char *best = 0;
  size_t blen = 0;
  for (size_t i = 0; i + 2 < len; i++) {
    size_t j, dots = 0, digits = 0;
    if (t[i] != '(' || t[i + 1] != '#') continue;
    for (j = i + 2; j < len && j - i < 14; j++) {
      if (t[j] >= '0' && t[j] <= '9') { digits++; if (digits > 3) break; }
      else if (t[j] == '.') { if (!digits || ++dots > 2) break; digits = 0; }
      else break;
    }
    if (j < len && t[j] == ')' && dots == 2 && digits
        && (t[i + 2] == '2' || t[i + 2] == '4' || t[i + 2] == '5') && t[i + 3] == '.') {
      best = t + i + 2;
      blen = j - i - 2;
    }
  }
  if (!best) { strcpy(out, "5.0.0"); return; }
  memcpy(out, best, blen);
  out[blen] = 0;
  out[0] = '5';
}

/* ---- the bounce message ---- */

struct out { char *d; size_t n; };

static void put(struct out *o, const char *s, size_t len)
{
  if (o->d) memcpy(o->d + o->n, s, len);
  o->n += len;
}
static void puts0(struct out *o, const char *s) { put(o, s, strlen(s)); }
static void putc1(struct out *o, char c) { put(o, &c, 1); }

/* printable ASCII and LF kept; other bytes '?'; lines folded at 900 */
static void put_text(struct out *o, const char *s, size_t len)
{
  size_t col = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n') { putc1(o, '\n'); col = 0; continue; }
    if (col >= 900) { putc1(o, '\n'); col = 0; }
    putc1(o, (c >= 0x20 && c < 0x7f) || c == '\t' ? (char)c : '?');
    col++;
  }
}

/* one header-field value: printable ASCII, LF and other controls to ' ',
   at most max bytes */
static void put_field(struct out *o, const char *s, size_t len, size_t max)
{
  if (len > max) len = max;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    putc1(o, (c >= 0x21 && c < 0x7f) ? (char)c : (c == ' ' ? ' ' : (c < 0x20 ? ' ' : '?')));
  }
}

/* the original headers: up to the first empty line, at most
   SCHED_BOUNCE_HEADERS_MAX bytes, cut at a line end */
static size_t header_len(const char *m, size_t mlen)
{
  size_t i = 0, last = 0;
  while (i < mlen) {
    const char *nl = memchr(m + i, '\n', mlen - i);
    size_t e = nl ? (size_t)(nl - m) + 1 : mlen;
    if (e - i == 1 || (e - i == 2 && m[i] == '\r')) break;   /* the empty line */
    if (e > SCHED_BOUNCE_HEADERS_MAX) break;
    last = e;
    i = e;
  }
  return last;
}

static int contains(const char *h, size_t hlen, const char *needle, size_t nlen)
{
  if (nlen > hlen) return 0;
  for (size_t i = 0; i + nlen <= hlen; i++)
    if (h[i] == needle[0] && !memcmp(h + i, needle, nlen)) return 1;
  return 0;
}

/* walk bounce/N: paragraphs "<rcpt>:\n" text "\n\n". 1 and the parts, or 0 */
static int para_next(const char *f, size_t flen, size_t *pos, const char **r, size_t *rl, const char **t, size_t *tl)
{
  size_t p = *pos, e;
  const char *nl;
  while (p < flen && f[p] == '\n') p++;
  if (p >= flen) return 0;
  for (e = p; e + 1 < flen && !(f[e] == '\n' && f[e + 1] == '\n'); e++) ;
  if (e + 1 >= flen) e = flen;      /* last paragraph without its blank line */
  nl = memchr(f + p, '\n', e - p);
  if (nl && f[p] == '<' && nl - (f + p) >= 3 && nl[-1] == ':' && nl[-2] == '>') {
    *r = f + p + 1;
    *rl = (size_t)(nl - (f + p)) - 3;
    *t = nl + 1;
    *tl = e - (size_t)(nl + 1 - f);
  } else {                             /* not ours: show it as text */
    *r = "unknown";
    *rl = 7;
    *t = f + p;
    *tl = e - p;
  }
  *pos = e;
  return 1;
}

size_t sched_bounce(char *dst, const struct sched_bounce_in *b)
{
  struct out o = { dst, 0 };
  char bnd[160], num[24], st[16];
  size_t blen, hlen = header_len(b->message, b->mlen), pos, rl, tl, count;
  const char *r, *t;
  size_t slen = strlen(b->sender);

  /* a boundary that is not in the quoted headers (the only part whose
     lines we do not write ourselves) */
  blen = strlen(b->boundary);
  if (blen > 100) blen = 100;
  memcpy(bnd, b->boundary, blen);
  num[qfn_fmtu64(num, b->id)] = 0;
  bnd[blen++] = '.';
  memcpy(bnd + blen, num, strlen(num));
  blen += strlen(num);
  bnd[blen] = 0;
  for (unsigned k = 0; k < 1000 && contains(b->message, hlen, bnd, blen); k++) {
    size_t l = qfn_fmtu64(bnd + blen, k);
    bnd[blen + l] = 0;
    if (!contains(b->message, hlen, bnd, blen + l)) { blen += l; break; }
  }

  puts0(&o, "Date: "); puts0(&o, b->date); putc1(&o, '\n');
  puts0(&o, "From: "); puts0(&o, b->bouncefrom); putc1(&o, '@'); puts0(&o, b->bouncehost); putc1(&o, '\n');
  puts0(&o, "To: <");
  {
    /* the wire form of the sender, with line breaks neutralised */
    char q[2 * ADDR_MAX + 3];
    size_t ql;
    if (slen > ADDR_MAX) slen = ADDR_MAX;
    ql = addr_quote(q, b->sender, slen);
    put_field(&o, q, ql, sizeof q);
  }
  puts0(&o, ">\n");
  puts0(&o, "Subject: failure notice\n");
  puts0(&o, "Auto-Submitted: auto-replied\n");
  puts0(&o, "MIME-Version: 1.0\n");
  puts0(&o, "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"");
  put(&o, bnd, blen);
  puts0(&o, "\"\n\nThis is a MIME-encapsulated message.\n\n--");
  put(&o, bnd, blen);
  puts0(&o, "\nContent-Type: text/plain; charset=us-ascii\n\nHi. This is the tern-send program at ");
  puts0(&o, b->bouncehost);
  puts0(&o, ".\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n");
  for (pos = 0, count = 0; count < SCHED_BOUNCE_RCPT_MAX && para_next(b->failures, b->flen, &pos, &r, &rl, &t, &tl); count++) {
    putc1(&o, '<'); put_field(&o, r, rl, ADDR_MAX); puts0(&o, ">:\n");
    put_text(&o, t, tl);
    puts0(&o, "\n\n");
  }
  puts0(&o, "--"); put(&o, bnd, blen);
  puts0(&o, "\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; ");
  puts0(&o, b->bouncehost);
  putc1(&o, '\n');
  for (pos = 0, count = 0; count < SCHED_BOUNCE_RCPT_MAX && para_next(b->failures, b->flen, &pos, &r, &rl, &t, &tl); count++) {
    puts0(&o, "\nFinal-Recipient: rfc822; "); put_field(&o, r, rl, ADDR_MAX);
    puts0(&o, "\nAction: failed\nStatus: ");
    sched_status(t, tl, st);
    puts0(&o, st);
    puts0(&o, contains(t, tl, "Remote host said:", 17) ? "\nDiagnostic-Code: smtp; " : "\nDiagnostic-Code: x-unix; ");
    put_field(&o, t, tl, 900);
    putc1(&o, '\n');
  }
  puts0(&o, "\n--"); put(&o, bnd, blen);
  puts0(&o, "\nContent-Type: text/rfc822-headers\n\n");
  put(&o, b->message, hlen);
  puts0(&o, "\n--"); put(&o, bnd, blen);
  puts0(&o, "--\n");
  return o.n;
}
