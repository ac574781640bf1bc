/* sched: tern-send's pure logic. libc only, no I/O; see sched.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "send/sched.h"
#include "common/addr.h"
#include "common/qfn.h"

static int lc(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int caseeq(const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) if (lc((unsigned char)a[i]) != lc((unsigned char)b[i])) return 0;
  return 1;
}


/* exact, any case (qmail's constmap) */
static int list_has(const struct ctl_list *l, const char *d, size_t dlen)
{
  size_t pos = 0;
  const char *e;
  if (!l) return 0;
  while ((e = ctl_listnext(l, &pos)))
    if (strlen(e) == dlen && caseeq(e, d, dlen)) return 1;
  return 0;
}

int sched_classify(const char *a, size_t len, const struct sched_ctl *ctl,
                   char *out, size_t *outlen, size_t *prelen)
{
  char buf[SCHED_REWRITE_MAX];
  size_t n = len, at, dlen;
  const char *dom, *pre = 0;
  if (prelen) *prelen = 0;
  if (len > ADDR_MAX) return SCHED_TOOLONG;
  memcpy(buf, a, len);
  if (!memchr(a, '@', len)) {
    size_t el = strlen(ctl->envnoathost);
    if (len + 1 + el > ADDR_MAX) return SCHED_TOOLONG;
    buf[n++] = '@';
    memcpy(buf + n, ctl->envnoathost, el);
    n += el;
  }
  buf[n] = 0;
  for (;;) {
    for (at = n; at > 0 && buf[at - 1] != '@'; at--) ;
    dom = buf + at;          /* at >= 1: there is an '@' */
    dlen = n - at;
    /* percenthack: u%h@domain -> u@h (each round removes one '%') */
    if (ctl->percenthack && ctl->percenthack->n && list_has(ctl->percenthack, dom, dlen)) {
      size_t k;
      for (k = at - 1; k > 0 && buf[k - 1] != '%'; k--) ;
      if (k > 0) {
        buf[k - 1] = '@';
        n = at - 1;
        buf[n] = 0;
        continue;
      }
    }
    break;
  }
  if (ctl_domain_match(ctl->locals, dom, dlen)) {
    memcpy(out, buf, n + 1);
    *outlen = n;
    return SCHED_LOCAL;
  }
  /* virtualdomains (qmail-send(8)): user@domain, domain, .suffixes, "" */
  pre = ctl_vdomain(ctl->vdoms, buf, n);
  if (pre && *pre) {
    size_t pl = strlen(pre);
    if (pl + 1 + n > ADDR_MAX) return SCHED_TOOLONG;
    memcpy(out, pre, pl);
    out[pl] = '-';
    memcpy(out + pl + 1, buf, n + 1);
    *outlen = pl + 1 + n;
    if (prelen) *prelen = pl + 1;
    return SCHED_LOCAL;
  }
  memcpy(out, buf, n + 1);
  *outlen = n;
  return SCHED_REMOTE;
}

int sched_hours(const char *s, unsigned long *secs)
{
  unsigned long h = 0, frac = 0, scale = 1;
  size_t i = 0;
  int digits = 0;
  while (s[i] >= '0' && s[i] <= '9') {
    h = h * 10 + (unsigned long)(s[i++] - '0');
    digits = 1;
    if (h > 100000) return 0;
  }
  if (s[i] == '.') {
    i++;
    while (s[i] >= '0' && s[i] <= '9') {
      if (scale < 1000000) { frac = frac * 10 + (unsigned long)(s[i] - '0'); scale *= 10; }
      i++;
      digits = 1;
    }
  }
  if (s[i] || !digits) return 0;
  *secs = h * 3600 + frac * 3600 / scale;
  if (!*secs && (h || frac)) *secs = 1;
  return 1;
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

static int contains(const char *h, size_t hlen, const char *needle, size_t nlen);

static const char expired[] = "I'm not going to try again; this message has been in the queue too long.";

/* "x.y.z" at t[0..len): class digit, 1-3 digits, 1-3 digits; its length or 0 */
static size_t enhanced(const char *t, size_t len)
{
  size_t j, dots = 0, digits = 0;
  if (len < 5 || (t[0] != '2' && t[0] != '4' && t[0] != '5') || t[1] != '.') return 0;
  for (j = 0; j < len && j < 12; j++) {
    if (t[j] >= '0' && t[j] <= '9') { digits++; if (digits > 3) return 0; }
    else if (t[j] == '.') { if (!digits || ++dots > 2) return 0; digits = 0; }
    else break;
  }
  return dots == 2 && digits ? j : 0;
}

void sched_status_class(const char *t, size_t len, char cls, char *out)
{
  const char *best = 0;
  size_t blen = 0;
  /* 1. the remote server's own code: "Remote host said: NNN x.y.z" */
  for (size_t i = 0; !best && i + 22 < len; i++)
    if (!memcmp(t + i, "Remote host said: ", 18) && t[i + 18] >= '2' && t[i + 18] <= '5' && t[i + 21] == ' ') {
      size_t e = enhanced(t + i + 22, len - i - 22);
      if (e && (i + 22 + e == len || t[i + 22 + e] == ' ' || t[i + 22 + e] == '\n')) { best = t + i + 22; blen = e; }
    }
  /* 2. the first "(#x.y.z)": later ones are generic wrappers (tern-local
     appends its own after a program's text) */
  for (size_t i = 0; !best && i + 2 < len; i++) {
    size_t e;
    if (t[i] != '(' || t[i + 1] != '#') continue;
    e = enhanced(t + i + 2, len - i - 2);
    if (e && i + 2 + e < len && t[i + 2 + e] == ')') { best = t + i + 2; blen = e; }
  }
  if (cls == '5' && contains(t, len, expired, sizeof expired - 1)) { strcpy(out, "5.4.7"); return; }
  if (!best) { out[0] = cls; strcpy(out + 1, ".0.0"); return; }
  memcpy(out, best, blen);
  out[blen] = 0;
  out[0] = cls;
}

void sched_status(const char *t, size_t len, char *out)
{
  sched_status_class(t, len, '5', out);
}

static int hostchar(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

int sched_remote_mta(const char *t, size_t len, const char **name, size_t *nlen)
{
  for (size_t i = 0; i < len; i++) {
    size_t s, j;
    if (i && t[i - 1] != '\n') continue;
    s = i;
    if (len - s >= 13 && !memcmp(t + s, "Connected to ", 13)) s += 13;
    for (j = s; j < len && j - s < 256 && hostchar(t[j]); j++) ;
    if (j == s || j >= len || t[j] != '[') continue;
    {
      size_t k = j + 1;
      while (k < len && k - j < 48 && ((t[k] >= '0' && t[k] <= '9') || (t[k] >= 'a' && t[k] <= 'f') || (t[k] >= 'A' && t[k] <= 'F') || t[k] == '.' || t[k] == ':')) k++;
      if (k == j + 1 || k >= len || t[k] != ']') continue;
    }
    *name = t + s;
    *nlen = j - s;
    return 1;
  }
  return 0;
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

/* does any line of m[0..mlen) start with "--" + bnd? */
static int has_boundary(const char *m, size_t mlen, const char *bnd, size_t blen)
{
  for (size_t i = 0; i + 2 + blen <= mlen; i++)
    if ((!i || m[i - 1] == '\n') && m[i] == '-' && m[i + 1] == '-' && !memcmp(m + i + 2, bnd, blen)) return 1;
  return 0;
}

static int eightbit(const char *m, size_t mlen)
{
  for (size_t i = 0; i < mlen; i++) if ((unsigned char)m[i] >= 0x80 || !m[i]) return 1;
  return 0;
}

/* a boundary that no quoted line starts with (the only lines we do not
   write ourselves): BOUNDARY.ID, then .0, .1, ... if needed; its length */
static size_t bounce_boundary(char *bnd, const struct sched_bounce_in *b, const char *q, size_t qlen)
{
  char num[24];
  size_t blen = strlen(b->boundary);
  if (blen > 100) blen = 100;
  memcpy(bnd, b->boundary, blen);
  num[qfn_fmtu64(num, b->id)] = 0;
  bnd[blen++] = '.';
  memcpy(bnd + blen, num, strlen(num));
  blen += strlen(num);
  bnd[blen] = 0;
  if (has_boundary(q, qlen, bnd, blen)) {
    size_t base = blen;
    bnd[blen++] = '.';
    for (unsigned k = 0; k < 1000; k++) {
      size_t l = qfn_fmtu64(bnd + base + 1, k);
      blen = base + 1 + l;
      bnd[blen] = 0;
      if (!has_boundary(q, qlen, bnd, blen)) break;
    }
  }
  return blen;
}

/* the report's header fields and its first, human-readable part */
static void bounce_text(struct out *o, const struct sched_bounce_in *b, const char *bnd, size_t blen, int whole)
{
  size_t slen = strlen(b->to), pos, rl, tl, count;
  const char *r, *t;
  puts0(o, "Date: "); puts0(o, b->date); putc1(o, '\n');
  puts0(o, "From: "); puts0(o, b->bouncefrom); putc1(o, '@'); puts0(o, b->bouncehost); putc1(o, '\n');
  puts0(o, "To: <");
  {
    /* the wire form of the recipient, with line breaks neutralised */
    char qq[2 * ADDR_MAX + 3];
    size_t ql;
    if (slen > ADDR_MAX) slen = ADDR_MAX;
    ql = addr_quote(qq, b->to, slen);
    put_field(o, qq, ql, sizeof qq);
  }
  puts0(o, ">\n");
  if (b->msgid) { puts0(o, "Message-ID: "); puts0(o, b->msgid); putc1(o, '\n'); }
  puts0(o, b->kind == SCHED_KIND_DELAYED ? "Subject: delivery delayed (warning only)\n" : "Subject: failure notice\n");
  puts0(o, "Auto-Submitted: auto-replied\n");
  puts0(o, "MIME-Version: 1.0\n");
  puts0(o, "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"");
  put(o, bnd, blen);
  puts0(o, "\"\n\nThis is a MIME-encapsulated message.\n\n--");
  put(o, bnd, blen);
  puts0(o, "\nContent-Type: text/plain; charset=us-ascii\n\nHi. This is the tern-send program at ");
  puts0(o, b->bouncehost);
  if (b->kind == SCHED_KIND_DELAYED)
    puts0(o, ".\nYour message has not been delivered yet to the following addresses.\n"
              "This is only a warning: I'm still trying, and you don't need to send it again.\n\n");
  else if (b->kind == SCHED_KIND_DOUBLE)
    puts0(o, ".\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n");
  else
    puts0(o, ".\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
              "This is a permanent error; I've given up. Sorry it didn't work out.\n\n");
  for (pos = 0, count = 0; count < SCHED_BOUNCE_RCPT_MAX && para_next(b->failures, b->flen, &pos, &r, &rl, &t, &tl); count++) {
    putc1(o, '<'); put_field(o, r, rl, ADDR_MAX); puts0(o, ">:\n");
    put_text(o, t, tl);
    puts0(o, "\n\n");
  }
  puts0(o, whole ? "--- Below this line is a copy of the message.\n\n--"
                 : "--- Below this line are the headers of the message.\n\n--");
}

/* "Remote host said: " in a failure text t[0..tl): the server's reply,
   without tern-remote's own " (#x.y.z)" after it; 0 if none */
static const char *bounce_said(const char *t, size_t tl, size_t *saidlen)
{
  for (size_t i = 0; i + 18 <= tl; i++)
    if (!memcmp(t + i, "Remote host said: ", 18)) {
      const char *said = t + i + 18, *nl = memchr(said, '\n', tl - i - 18);
      size_t n = nl ? (size_t)(nl - said) : tl - i - 18;
      if (n > 4 && said[n - 1] == ')') {
        size_t k = n - 1;
        while (k > 0 && said[k - 1] != '(') k--;
        if (k >= 2 && said[k - 2] == ' ' && said[k] == '#' && enhanced(said + k + 1, n - k - 2) == n - k - 2)
          n = k - 2;
      }
      *saidlen = n;
      return said;
    }
  *saidlen = 0;
  return 0;
}

/* the message/delivery-status part: one block per recipient (RFC 3464) */
static void bounce_dsn(struct out *o, const struct sched_bounce_in *b)
{
  const char *action = b->kind == SCHED_KIND_DELAYED ? "delayed" : "failed";
  char cls = b->kind == SCHED_KIND_DELAYED ? '4' : '5', st[16];
  size_t pos, rl, tl, count;
  const char *r, *t;
  puts0(o, "\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; ");
  put_field(o, b->mta, strlen(b->mta), 255);
  putc1(o, '\n');
  if (b->arrival) { puts0(o, "Arrival-Date: "); puts0(o, b->arrival); putc1(o, '\n'); }
  for (pos = 0, count = 0; count < SCHED_BOUNCE_RCPT_MAX && para_next(b->failures, b->flen, &pos, &r, &rl, &t, &tl); count++) {
    const char *said, *mta;
    size_t saidlen, mtalen;
    said = bounce_said(t, tl, &saidlen);
    puts0(o, "\nFinal-Recipient: rfc822; "); put_field(o, r, rl, ADDR_MAX);
    puts0(o, "\nAction: "); puts0(o, action);
    puts0(o, "\nStatus: ");
    sched_status_class(t, tl, cls, st);
    puts0(o, st);
    if (sched_remote_mta(t, tl, &mta, &mtalen)) {
      puts0(o, "\nRemote-MTA: dns; ");
      put_field(o, mta, mtalen, 255);
    }
    if (said && saidlen) {
      puts0(o, "\nDiagnostic-Code: smtp; ");
      put_field(o, said, saidlen, 900);
    } else {
      puts0(o, "\nDiagnostic-Code: x-unix; ");
      put_field(o, t, tl, 900);
    }
    putc1(o, '\n');
  }
}

size_t sched_bounce(char *dst, const struct sched_bounce_in *b)
{
  struct out o = { dst, 0 };
  char bnd[160];
  size_t blen, qlen;
  const char *q = b->message;
  int whole = b->msize <= b->maxbytes && b->mlen == b->msize;

  /* what is quoted: the whole message, or its headers */
  qlen = whole ? b->mlen : header_len(b->message, b->mlen);
  blen = bounce_boundary(bnd, b, q, qlen);
  bounce_text(&o, b, bnd, blen, whole);
  put(&o, bnd, blen);
  bounce_dsn(&o, b);
  puts0(&o, "\n--"); put(&o, bnd, blen);
  if (whole) {
    puts0(&o, "\nContent-Type: message/rfc822\n");
    if (eightbit(q, qlen)) puts0(&o, "Content-Transfer-Encoding: 8bit\n");
    putc1(&o, '\n');
    put(&o, q, qlen);
    if (qlen && q[qlen - 1] != '\n') putc1(&o, '\n');
  } else {
    puts0(&o, "\nContent-Type: text/rfc822-headers\n\n");
    put(&o, q, qlen);
  }
  puts0(&o, "\n--"); put(&o, bnd, blen);
  puts0(&o, "--\n");
  return o.n;
}

/* ---- what a bounce may quote ---- */

/* where the header field at m[p..) ends: the start of the next line that
   does not continue it, or mlen */
static size_t field_end(const char *m, size_t mlen, size_t p)
{
  for (;;) {
    const char *nl = memchr(m + p, '\n', mlen - p);
    if (!nl) return mlen;
    p = (size_t)(nl - m) + 1;
    if (p >= mlen || (m[p] != ' ' && m[p] != '\t')) return p;
  }
}

/* digits at f[*i..n) as a number (at most 19 of them); 1 and *i past them */
static int digits(const char *f, size_t n, size_t *i, uint64_t *v)
{
  size_t k = 0;
  *v = 0;
  while (*i < n && f[*i] >= '0' && f[*i] <= '9' && k < 19) { *v = *v * 10 + (uint64_t)(f[*i] - '0'); (*i)++; k++; }
  return k > 0 && (*i >= n || f[*i] < '0' || f[*i] > '9');
}

static int lit(const char *f, size_t n, size_t *i, const char *s)
{
  size_t k = strlen(s);
  if (n - *i < k || memcmp(f + *i, s, k)) return 0;
  *i += k;
  return 1;
}

/* f[0..n) is tern-queue's "Received: (tern PID invoked by uid UID); ...":
   1 and *uid */
static int queue_line(const char *f, size_t n, uint64_t *uid)
{
  size_t i = 0;
  uint64_t pid;
  return lit(f, n, &i, "Received: (tern ") && digits(f, n, &i, &pid)
      && lit(f, n, &i, " invoked by uid ") && digits(f, n, &i, uid) && lit(f, n, &i, ")");
}

/* f[0..n) is tern-smtpd's Received field and its second line (or third,
   after the TLS line) ("\tby ME (tern-smtpd) with PROTO id ...": nothing of the client's is on it; the
   first line holds the client's HELO and names without blanks or line
   ends) names an authenticated PROTO (RFC 3848, RFC 6531) */
static int smtpd_auth(const char *f, size_t n)
{
  static const char *const proto[] = { "ESMTPA ", "ESMTPSA ", "UTF8SMTPA ", "UTF8SMTPSA " };
  const char *nl, *l, *e;
  size_t i = 0, ll;
  if (!lit(f, n, &i, "Received: from ")) return 0;
  nl = memchr(f, '\n', n);
  /* inside TLS one line "\t(using PROTOCOL with cipher ...)" comes first
     (tern-smtpd writes it from its TLS process's reply, Postfix's form) */
  if (nl && n - (size_t)(nl + 1 - f) >= 8 && !memcmp(nl + 1, "\t(using ", 8))
    nl = memchr(nl + 1, '\n', n - (size_t)(nl + 1 - f));
  if (!nl || n - (size_t)(nl + 1 - f) < 5 || memcmp(nl + 1, "\tby ", 4)) return 0;
  l = nl + 1;
  e = memchr(l, '\n', n - (size_t)(l - f));
  ll = e ? (size_t)(e - l) : n - (size_t)(l - f);
  for (i = 0; i + 19 <= ll; i++)
    if (!memcmp(l + i, " (tern-smtpd) with ", 19)) {
      i += 19;
      for (size_t k = 0; k < sizeof proto / sizeof proto[0]; k++)
        if (lit(l, ll, &i, proto[k])) return 1;
      return 0;
    }
  return 0;
}

int sched_origin(const char *m, size_t mlen, int more, uint64_t smtpuid)
{
  size_t p = 0, e;
  int pending = 0, auth = 0, first = 1;
  uint64_t uid;
  if (smtpuid == SCHED_UID_UNKNOWN) return SCHED_ORIGIN_SMTP;
  for (;;) {
    if (p >= mlen) { if (more) return SCHED_ORIGIN_SMTP; break; }
    if (m[p] == '\n' || (m[p] == '\r' && p + 1 < mlen && m[p + 1] == '\n')) break;   /* the empty line */
    e = field_end(m, mlen, p);
    if (queue_line(m + p, e - p, &uid)) {
      if (pending) return SCHED_ORIGIN_SMTP;   /* tern-smtpd's line missing */
      pending = uid == smtpuid;
    } else if (first) return SCHED_ORIGIN_SMTP;
    else if (pending && e - p >= 9 && !strncasecmp(m + p, "received:", 9)) {
      if (!smtpd_auth(m + p, e - p)) return SCHED_ORIGIN_SMTP;
      pending = 0;
      auth = 1;
    }
    first = 0;
    p = e;
  }
  return first || pending ? SCHED_ORIGIN_SMTP : auth ? SCHED_ORIGIN_AUTH : SCHED_ORIGIN_LOCAL;
}

void sched_bodymode_default(unsigned char mode[SCHED_ORIGINS])
{
  mode[SCHED_ORIGIN_LOCAL] = SCHED_BODY_ALL;
  mode[SCHED_ORIGIN_AUTH] = SCHED_BODY_ALL;
  mode[SCHED_ORIGIN_SMTP] = SCHED_BODY_HEADERS;
}

static int word(const char *s, size_t len, const char *w)
{
  return len == strlen(w) && !memcmp(s, w, len);
}

int sched_bodymode_line(const char *s, size_t len, unsigned char mode[SCHED_ORIGINS])
{
  static const char *const origin[SCHED_ORIGINS] = { "local", "auth", "smtp" };
  const char *colon;
  int o = SCHED_ORIGIN_SMTP, v;
  while (len && (*s == ' ' || *s == '\t')) { s++; len--; }
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')) len--;
  if (!len || *s == '#') return 1;
  colon = memchr(s, ':', len);
  if (colon) {
    size_t ol = (size_t)(colon - s);
    for (o = 0; o < SCHED_ORIGINS && !word(s, ol, origin[o]); o++) ;
    if (o == SCHED_ORIGINS) return 0;
    len -= ol + 1;
    s = colon + 1;
  }
  if (word(s, len, "all")) v = SCHED_BODY_ALL;
  else if (word(s, len, "headers")) v = SCHED_BODY_HEADERS;
  else return 0;
  mode[o] = (unsigned char)v;
  return 1;
}

/* ---- tern-send's journal ---- */

size_t sched_jrec_fmt(char *dst, char type, const char *qid, uint64_t v)
{
  size_t ql = strlen(qid), l = 0;
  dst[l++] = type;
  memcpy(dst + l, qid, ql);
  l += ql;
  dst[l++] = ' ';
  l += qfn_fmtu64(dst + l, v);
  dst[l++] = ';';
  dst[l++] = 0;
  return l;
}

int sched_jrec_parse(char type, const char *v, size_t vlen, const char **qid, size_t *qlen, uint64_t *val)
{
  const char *sp = memchr(v, ' ', vlen);
  size_t ql;
  if ((type != 'D' && type != 'L' && type != 'R') || !sp || v[vlen - 1] != ';') return 0;
  ql = (size_t)(sp - v);
  if (!ql || ql > 24 || memchr(v, ';', ql)) return 0;
  if (!qfn_scanu64(sp + 1, vlen - ql - 2, val)) return 0;
  *qid = v;
  *qlen = ql;
  return 1;
}

/* ---- message number -> table index ---- */

#define IDMAP_EMPTY ((size_t)-1)

static size_t idhash(uint64_t id, size_t cap)
{
  id ^= id >> 33;
  id *= 0xff51afd7ed558ccdULL;
  id ^= id >> 33;
  return (size_t)id & (cap - 1);
}

static int idmap_grow(struct sched_idmap *m)
{
  size_t cap = m->cap ? m->cap * 2 : 64;
  uint64_t *k;
  size_t *v;
  if (cap > ((size_t)-1) / 2 / sizeof *v) return 0;
  k = malloc(cap * sizeof *k);
  v = malloc(cap * sizeof *v);
  if (!k || !v) { free(k); free(v); return 0; }
  for (size_t i = 0; i < cap; i++) v[i] = IDMAP_EMPTY;
  for (size_t i = 0; i < m->cap; i++)
    if (m->val[i] != IDMAP_EMPTY) {
      size_t h = idhash(m->key[i], cap);
      while (v[h] != IDMAP_EMPTY) h = (h + 1) & (cap - 1);
      k[h] = m->key[i];
      v[h] = m->val[i];
    }
  free(m->key);
  free(m->val);
  m->key = k;
  m->val = v;
  m->cap = cap;
  return 1;
}

int sched_idmap_put(struct sched_idmap *m, uint64_t id, size_t v)
{
  size_t h;
  if (v == IDMAP_EMPTY) return 0;
  if ((m->n + 1) * 2 > m->cap && !idmap_grow(m)) return 0;
  h = idhash(id, m->cap);
  while (m->val[h] != IDMAP_EMPTY && m->key[h] != id) h = (h + 1) & (m->cap - 1);
  if (m->val[h] == IDMAP_EMPTY) m->n++;
  m->key[h] = id;
  m->val[h] = v;
  return 1;
}

int sched_idmap_get(const struct sched_idmap *m, uint64_t id, size_t *v)
{
  size_t h;
  if (!m->cap) return 0;
  h = idhash(id, m->cap);
  while (m->val[h] != IDMAP_EMPTY) {
    if (m->key[h] == id) { *v = m->val[h]; return 1; }
    h = (h + 1) & (m->cap - 1);
  }
  return 0;
}

void sched_idmap_del(struct sched_idmap *m, uint64_t id)
{
  size_t h, j;
  if (!m->cap) return;
  h = idhash(id, m->cap);
  while (m->val[h] != IDMAP_EMPTY && m->key[h] != id) h = (h + 1) & (m->cap - 1);
  if (m->val[h] == IDMAP_EMPTY) return;
  m->val[h] = IDMAP_EMPTY;
  m->n--;
  /* backward shift: move later entries of the run into the hole */
  for (j = (h + 1) & (m->cap - 1); m->val[j] != IDMAP_EMPTY; j = (j + 1) & (m->cap - 1)) {
    size_t home = idhash(m->key[j], m->cap);
    /* the entry at j may move to h when home is not cyclically in (h, j] */
    if ((j > h && (home <= h || home > j)) || (j < h && (home <= h && home > j))) {
      m->key[h] = m->key[j];
      m->val[h] = m->val[j];
      m->val[j] = IDMAP_EMPTY;
      h = j;
    }
  }
}

void sched_idmap_free(struct sched_idmap *m)
{
  free(m->key);
  free(m->val);
  m->key = 0;
  m->val = 0;
  m->cap = m->n = 0;
}
