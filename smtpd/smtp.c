/* smtp.c: SMTP command parsing and the DATA/BDAT content state machine
   (RFC 5321 4.1, 4.5.2; RFC 1870; RFC 6152; RFC 6531; RFC 3030).
   libc + common/ only. */
#include <stdint.h>
#include <string.h>
#include "smtpd/smtp.h"

static unsigned char lc(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* s[0..n) equals the lower-case word w, any case */
static int word_eq(const char *s, size_t n, const char *w)
{
  size_t k = strlen(w);
  if (n != k) return 0;
  for (size_t i = 0; i < n; i++)
    if (lc((unsigned char)s[i]) != (unsigned char)w[i]) return 0;
  return 1;
}

static const struct { const char *name; int verb; } verbs[] = {
  { "helo", SMTP_V_HELO }, { "ehlo", SMTP_V_EHLO }, { "mail", SMTP_V_MAIL },
  { "rcpt", SMTP_V_RCPT }, { "data", SMTP_V_DATA }, { "bdat", SMTP_V_BDAT },
  { "rset", SMTP_V_RSET }, { "noop", SMTP_V_NOOP }, { "quit", SMTP_V_QUIT },
  { "vrfy", SMTP_V_VRFY }, { "expn", SMTP_V_EXPN }, { "help", SMTP_V_HELP },
  { "starttls", SMTP_V_STARTTLS }, { "auth", SMTP_V_AUTH },
  { "etrn", SMTP_V_ETRN }, { "turn", SMTP_V_TURN },
};

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *c)
{
  size_t i = 0, vlen, a, b;
  c->verb = SMTP_V_UNKNOWN;
  c->arg = line;
  c->arglen = 0;
  for (size_t k = 0; k < len; k++)
    if (line[k] == 0 || line[k] == '\r' || line[k] == '\n') return 0;
  while (i < len && line[i] != ' ') i++;
  vlen = i;
  for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
    if (word_eq(line, vlen, verbs[k].name)) { c->verb = verbs[k].verb; break; }
  a = vlen;
  while (a < len && (line[a] == ' ' || line[a] == '\t')) a++;
  b = len;
  while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t')) b--;
  c->arg = line + a;
  c->arglen = b - a;
  return 1;
}

/* "FROM:" / "TO:" prefix, any case; returns its length or 0 */
static size_t prefix(const char *s, size_t len, const char *p)
{
  size_t k = strlen(p);
  if (len < k) return 0;
  for (size_t i = 0; i < k; i++)
    if (lc((unsigned char)s[i]) != (unsigned char)p[i]) return 0;
  return k;
}

/* all of s[0..n) as a decimal number <= max: 1 ok, 0 no */
static int scan_dec(const char *s, size_t n, uint64_t max, uint64_t *v)
{
  uint64_t x = 0;
  if (n == 0 || n > 20) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned d;
    if (s[i] < '0' || s[i] > '9') return 0;
    d = (unsigned)(s[i] - '0');
    if (x > (max - d) / 10) return 0;
    x = x * 10 + d;
  }
  *v = x;
  return 1;
}

int smtp_parse_mail(const char *arg, size_t len, struct addr *a, struct smtp_mailparams *p, int *aerr)
{
  size_t k = prefix(arg, len, "from:"), end = 0, i;
  int r;
  p->size = 0;
  p->has_size = 0;
  p->body = SMTP_BODY_NONE;
  p->smtputf8 = 0;
  p->has_auth = 0;
  *aerr = 0;
  if (!k) return SMTP_E_SYNTAX;
  r = addr_parse_path(arg + k, len - k, ADDR_O_NULL | ADDR_O_UTF8, a, &end);
  if (r) { *aerr = r; return SMTP_E_ADDR; }
  i = k + end;
  while (i < len) {
    size_t ks, ke, ve;
    if (arg[i] != ' ') return SMTP_E_SYNTAX;
    while (i < len && arg[i] == ' ') i++;
    if (i >= len) break;
    ks = i;
    while (i < len && arg[i] != ' ' && arg[i] != '=') i++;
    ke = i;
    if (i < len && arg[i] == '=') i++;
    while (i < len && arg[i] != ' ') i++;
    ve = i;
    if (word_eq(arg + ks, ke - ks, "size")) {
      uint64_t v;
      if (p->has_size || ke == ve || !scan_dec(arg + ke + 1, ve - ke - 1, UINT64_MAX, &v))
        return SMTP_E_PARAMVAL;
      p->size = v;
      p->has_size = 1;
    } else if (word_eq(arg + ks, ke - ks, "body")) {
      if (p->body || ke == ve) return SMTP_E_PARAMVAL;
      if (word_eq(arg + ke + 1, ve - ke - 1, "7bit")) p->body = SMTP_BODY_7BIT;
      else if (word_eq(arg + ke + 1, ve - ke - 1, "8bitmime")) p->body = SMTP_BODY_8BITMIME;
      else return SMTP_E_PARAMVAL;
    } else if (word_eq(arg + ks, ke - ks, "auth")) {
      /* RFC 4954 5: AUTH=<> or AUTH=xtext; accepted and not used (the
         identity tern-smtpd trusts is the session's own AUTH user) */
      if (p->has_auth || ve <= ke + 1 || ve - ke - 1 > 500) return SMTP_E_PARAMVAL;
      for (size_t j = ke + 1; j < ve; j++)
        if ((unsigned char)arg[j] < 33 || (unsigned char)arg[j] > 126) return SMTP_E_PARAMVAL;
      p->has_auth = 1;
    } else if (word_eq(arg + ks, ke - ks, "smtputf8")) {
      if (p->smtputf8 || ke != ve) return SMTP_E_PARAMVAL;
      p->smtputf8 = 1;
    } else
      return SMTP_E_PARAM;
  }
  if ((a->flags & ADDR_F_UTF8) && !p->smtputf8) return SMTP_E_UTF8;
  return SMTP_OK;
}

int smtp_parse_rcpt(const char *arg, size_t len, int utf8, struct addr *a, int *aerr)
{
  size_t k = prefix(arg, len, "to:"), end = 0, i;
  int r;
  *aerr = 0;
  if (!k) return SMTP_E_SYNTAX;
  r = addr_parse_path(arg + k, len - k, ADDR_O_NODOMAIN | ADDR_O_UTF8, a, &end);
  if (r) { *aerr = r; return SMTP_E_ADDR; }
  i = k + end;
  while (i < len && arg[i] == ' ') i++;
  if (i < len) return (arg[k + end] == ' ') ? SMTP_E_PARAM : SMTP_E_SYNTAX;
  if ((a->flags & ADDR_F_UTF8) && !utf8) return SMTP_E_UTF8;
  return SMTP_OK;
}

int smtp_parse_bdat(const char *arg, size_t len, uint64_t *n, int *last)
{
  size_t i = 0;
  while (i < len && arg[i] != ' ') i++;
  if (!scan_dec(arg, i, SMTP_BDAT_MAX, n)) return 0;
  while (i < len && arg[i] == ' ') i++;
  *last = 0;
  if (i == len) return 1;
  if (!word_eq(arg + i, len - i, "last")) return 0;
  *last = 1;
  return 1;
}

int smtp_bdat_count(const char *arg, size_t len, uint64_t *n)
{
  size_t i = 0;
  while (i < len && arg[i] >= '0' && arg[i] <= '9') i++;
  if (i < len && arg[i] != ' ' && arg[i] != '\t') return 0;
  return scan_dec(arg, i, SMTP_BDAT_MAX, n);
}

/* content states */
#define S_BOL 0      /* at the beginning of a line (after CRLF) */
#define S_MID 1      /* inside a line */
#define S_CR 2       /* a CR was seen inside a line */
#define S_DOT 3      /* DATA: a '.' at the beginning of a line */
#define S_DOTCR 4    /* DATA: ".\r" at the beginning of a line */

void smtp_data_init(struct smtp_data *d, int mode, uint64_t maxbytes)
{
  memset(d, 0, sizeof *d);
  d->mode = mode;
  d->state = S_BOL;
  d->maxbytes = maxbytes;
  d->inheader = 1;
}

/* one content byte (LF form) to store */
static void emit(struct smtp_data *d, char c, char *out, size_t *o)
{
  if (d->flags & SMTP_D_TOOBIG) return;
  if (d->maxbytes && d->size >= d->maxbytes) { d->flags |= SMTP_D_TOOBIG; return; }
  d->size++;
  out[(*o)++] = c;
}

static int hdr_is(const struct smtp_data *d, const char *name)
{
  size_t k = strlen(name);
  return d->hlen >= k && memcmp(d->hbuf, name, k) == 0;
}

/* the current line ended with CRLF (stored as LF) */
static void end_line(struct smtp_data *d, char *out, size_t *o)
{
  if (!(d->flags & SMTP_D_TOOBIG)) d->size++;   /* the CR: sizes count CRLF (RFC 1870) */
  emit(d, '\n', out, o);
  if (d->linelen > SMTP_TEXT_MAX) d->flags |= SMTP_D_LONGLINE;
  d->linelen = 0;
  if (d->inheader) {
    if (d->hlen == 0) d->inheader = 0;
    else if (hdr_is(d, "received:") || hdr_is(d, "delivered-to:")) {
      if (++d->hops >= SMTP_HOPS_MAX) d->flags |= SMTP_D_HOPS;
    }
  }
  d->hlen = 0;
  d->state = S_BOL;
}

/* an ordinary content byte inside a line */
static void mid(struct smtp_data *d, char c, char *out, size_t *o)
{
  if (c == '\r') { d->state = S_CR; return; }
  if (c == '\n') d->flags |= SMTP_D_BARELF;
  else if (c == 0) d->flags |= SMTP_D_NUL;
  if (d->inheader && d->hlen < sizeof d->hbuf) d->hbuf[d->hlen++] = (char)lc((unsigned char)c);
  emit(d, c, out, o);
  d->state = S_MID;
}

/* the fast path: the length of the run of ordinary bytes (no CR, LF or
   NUL) at in[i..len). *cr caches the index of the next CR at or after i
   (len: none; SIZE_MAX: not searched yet), so that the CR is searched once
   per line and the LF and NUL searches stop at it: every byte is looked at
   a bounded number of times, whatever the input. */
static size_t plain_run(const char *in, size_t i, size_t len, size_t *cr)
{
  const char *s = in + i, *e, *x;
  if (*cr == SIZE_MAX || *cr < i) {
    x = memchr(s, '\r', len - i);
    *cr = x ? (size_t)(x - in) : len;
  }
  e = in + *cr;
  if ((x = memchr(s, '\n', (size_t)(e - s)))) e = x;
  if ((x = memchr(s, 0, (size_t)(e - s)))) e = x;
  return (size_t)(e - s);
}

/* n ordinary bytes inside a line, past the header name kept in hbuf: what
   mid() does for each of them, at once */
static void mid_run(struct smtp_data *d, const char *s, size_t n, char *out, size_t *o)
{
  d->linelen += n;
  if (d->flags & SMTP_D_TOOBIG) return;
  if (d->maxbytes) {
    uint64_t room = d->size < d->maxbytes ? d->maxbytes - d->size : 0;
    if (n > room) { n = (size_t)room; d->flags |= SMTP_D_TOOBIG; }
  }
  memcpy(out + *o, s, n);
  *o += n;
  d->size += n;
}

size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t len, char *out, size_t *outlen)
{
  size_t i, o = 0;
  size_t cr = SIZE_MAX;   /* the next CR: not searched yet */
  for (i = 0; i < len && !d->done; i++) {
    char c;
    if (d->state == S_MID && !(d->inheader && d->hlen < sizeof d->hbuf)) {
      size_t n = plain_run(in, i, len, &cr);
      mid_run(d, in + i, n, out, &o);
      i += n;
      if (i == len) break;
    }
    c = in[i];
    d->linelen++;
    switch (d->state) {
    case S_BOL:
      if (c == '.' && d->mode == SMTP_MODE_DATA) { d->state = S_DOT; break; }
      mid(d, c, out, &o);
      break;
    case S_DOT:
      if (c == '\r') { d->state = S_DOTCR; break; }
      mid(d, c, out, &o);        /* the stuffed dot is dropped */
      break;
    case S_DOTCR:
      if (c == '\n') { d->done = 1; d->linelen = 0; break; }
      d->flags |= SMTP_D_BARECR; /* ".\r" + not LF */
      if (c == '\r') { d->state = S_CR; break; }
      mid(d, c, out, &o);
      break;
    case S_CR:
      if (c == '\n') { end_line(d, out, &o); break; }
      d->flags |= SMTP_D_BARECR;
      emit(d, '\r', out, &o);
      if (c == '\r') break;      /* stay in S_CR */
      mid(d, c, out, &o);
      break;
    default: /* S_MID */
      mid(d, c, out, &o);
      break;
    }
  }
  *outlen = o;
  return i;
}

void smtp_data_finish(struct smtp_data *d)
{
  if (d->state == S_CR || d->state == S_DOTCR) d->flags |= SMTP_D_BARECR;
  if (d->linelen > SMTP_TEXT_MAX) d->flags |= SMTP_D_LONGLINE;
}
