/* addr: RFC 5321 4.1.2 paths and mailboxes (RFC 6531 UTF-8 on request),
   turned into qmail's internal form: local part unquoted, '@', domain.
   Every scan is bounded by len and by the part limits in addr.h; nothing
   here allocates. */
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include "common/addr.h"

/* strict UTF-8 (RFC 3629): length of the sequence at s[i..len), 0 if it is
   invalid (overlong, surrogate, above U+10FFFF, truncated) or a C1 control */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i)
{
  unsigned char c = s[i];
  size_t n;
  unsigned lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) n = 3;
  else if (c >= 0xf0 && c <= 0xf4) n = 4;
  else return 0;
  if (len - i < n) return 0;
  if (c == 0xe0) lo = 0xa0;        /* overlong 3-byte */
  else if (c == 0xed) hi = 0x9f;   /* surrogates D800..DFFF */
  else if (c == 0xf0) lo = 0x90;   /* overlong 4-byte */
  else if (c == 0xf4) hi = 0x8f;   /* above U+10FFFF */
  if (s[i + 1] < lo || s[i + 1] > hi) return 0;
  for (size_t k = 2; k < n; k++)
    if (s[i + k] < 0x80 || s[i + k] > 0xbf) return 0;
  if (c == 0xc2 && s[i + 1] < 0xa0) return 0;  /* C1 controls U+0080..U+009F */
  return n;
}

static int is_atext(unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != 0;
}

static int is_letdig(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* a non-ASCII byte at s[*i]: validate one UTF-8 sequence, advance *i.
   Returns ADDR_OK or ADDR_E_UTF8. */
static int take_utf8(const unsigned char *s, size_t len, size_t *i, unsigned opts, size_t *n)
{
  size_t k;
  if (!(opts & ADDR_O_UTF8)) return ADDR_E_UTF8;
  k = utf8_seq(s, len, *i);
  if (!k) return ADDR_E_UTF8;
  *i += k;
  *n = k;
  return ADDR_OK;
}

/* one UTF-8 character of a local part at s[*i]: taken (take_utf8), copied
   to dst[*n] within ADDR_LOCAL_MAX, and flagged; 0 or an ADDR_E_ code */
static int copy_utf8(const unsigned char *s, size_t len, size_t *i, unsigned opts, char *dst, size_t *n, unsigned *flags)
{
  size_t k, st = *i;
  int r = take_utf8(s, len, i, opts, &k);
  if (r) return r;
  if (*n + k > ADDR_LOCAL_MAX) return ADDR_E_TOOLONG;
  memcpy(dst + *n, s + st, k);
  *n += k;
  *flags |= ADDR_F_UTF8;
  return 0;
}

/* Local part at s[*pos..len), wire form (dot-string or quoted-string),
   unquoted into dst (ADDR_LOCAL_MAX bytes); *pos ends just after it. */
static int parse_local(const unsigned char *s, size_t len, size_t *pos, unsigned opts,
                       char *dst, size_t *dlen, unsigned *flags)
{
  size_t i = *pos, n = 0;
  if (i < len && s[i] == '"') {
    i++;
    for (;;) {
      unsigned char c;
      if (i >= len) return ADDR_E_SYNTAX;           /* unterminated */
      c = s[i];
      if (c == '"') { i++; break; }
      if (c == '\\') {
        if (i + 1 >= len) return ADDR_E_SYNTAX;
        c = s[i + 1];
        if (c >= 0x80) return (opts & ADDR_O_UTF8) ? ADDR_E_SYNTAX : ADDR_E_UTF8;
        if (c < 32 || c > 126) return ADDR_E_SYNTAX;  /* quoted-pairSMTP: %d32-126 */
        if (n >= ADDR_LOCAL_MAX) return ADDR_E_TOOLONG;
        dst[n++] = (char)c;
        i += 2;
      } else if (c >= 0x80) {
        int r = copy_utf8(s, len, &i, opts, dst, &n, flags);
        if (r) return r;
      } else if (c >= 32 && c <= 126) {              /* qtextSMTP (not " or \) */
        if (n >= ADDR_LOCAL_MAX) return ADDR_E_TOOLONG;
        dst[n++] = (char)c;
        i++;
      } else return ADDR_E_SYNTAX;                   /* NUL, CR, LF, controls */
    }
    *flags |= ADDR_F_QUOTED;
    if (!n) return ADDR_E_SYNTAX;                   /* "" local part: refused */
  } else {
    int dot = 1;                                     /* at start or after '.' */
    while (i < len) {
      unsigned char c = s[i];
      if (c == '.') {
        if (dot) return ADDR_E_SYNTAX;
        dot = 1;
        if (n >= ADDR_LOCAL_MAX) return ADDR_E_TOOLONG;
        dst[n++] = '.';
        i++;
      } else if (c >= 0x80) {
        int r = copy_utf8(s, len, &i, opts, dst, &n, flags);
        if (r) return r;
        dot = 0;
      } else if (is_atext(c)) {
        if (n >= ADDR_LOCAL_MAX) return ADDR_E_TOOLONG;
        dst[n++] = (char)c;
        dot = 0;
        i++;
      } else break;
    }
    if (!n || dot) return ADDR_E_SYNTAX;            /* empty, or trailing '.' */
  }
  *pos = i;
  *dlen = n;
  return ADDR_OK;
}

/* the inside of an address literal, t[0..n) without the brackets */
static int literal_valid(const unsigned char *t, size_t n)
{
  char tmp[ADDR_DOMAIN_MAX + 1];
  unsigned char a6[16];
  size_t i, colon = n;
  int digdot = 1;
  if (!n || n >= sizeof tmp) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = t[i];
    /* dcontent = %d33-90 / %d94-126; '@' refused too: the internal form
       splits at the last '@' */
    if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']' || c == '@') return 0;
    if (!((c >= '0' && c <= '9') || c == '.')) digdot = 0;
    if (c == ':' && colon == n) colon = i;
  }
  if (digdot) {
    memcpy(tmp, t, n); tmp[n] = 0;
    return inet_pton(AF_INET, tmp, a6) == 1;
  }
  if (colon == n || colon == 0 || colon + 1 == n) return 0;
  if (colon == 4 && !strncasecmp((const char *)t, "IPv6", 4)) {
    memcpy(tmp, t + 5, n - 5); tmp[n - 5] = 0;
    return inet_pton(AF_INET6, tmp, a6) == 1;
  }
  /* General-address-literal: Standardized-tag ":" 1*dcontent, tag = Ldh-str */
  for (i = 0; i < colon; i++)
    if (!is_letdig(t[i]) && t[i] != '-') return 0;
  if (t[colon - 1] == '-') return 0;
  return 1;
}

/* Domain or address literal at s[*pos..len); *pos ends just after it.
   Returns ADDR_OK or ADDR_E_*; sets ADDR_F_LITERAL/ADDR_F_UTF8. */
static int parse_domain(const unsigned char *s, size_t len, size_t *pos, unsigned opts, unsigned *flags)
{
  size_t i = *pos, start = *pos, lab = 0;
  if (i < len && s[i] == '[') {
    while (i < len && s[i] != ']') {
      if (i - start > ADDR_DOMAIN_MAX) return ADDR_E_TOOLONG;
      i++;
    }
    if (i >= len) return ADDR_E_SYNTAX;             /* unterminated literal */
    i++;
    if (i - start > ADDR_DOMAIN_MAX) return ADDR_E_TOOLONG;
    if (!literal_valid(s + start + 1, i - start - 2)) return ADDR_E_SYNTAX;
    *flags |= ADDR_F_LITERAL;
    *pos = i;
    return ADDR_OK;
  }
  for (;;) {
    /* one label */
    size_t ls = i;
    int utf8 = 0;
    while (i < len) {
      unsigned char c = s[i];
      if (is_letdig(c) || c == '-') i++;
      else if (c >= 0x80) {
        size_t k;
        int r = take_utf8(s, len, &i, opts, &k);
        if (r) return r;
        utf8 = 1;
      } else break;
      if (i - start > ADDR_DOMAIN_MAX) return ADDR_E_TOOLONG;
    }
    if (i == ls) return ADDR_E_SYNTAX;              /* empty label */
    if (i - ls > 63) return ADDR_E_TOOLONG;
    if (s[ls] == '-' || s[i - 1] == '-') return ADDR_E_SYNTAX;
    if (utf8) *flags |= ADDR_F_UTF8;
    lab++;
    if (i < len && s[i] == '.') { i++; continue; }
    break;
  }
  (void)lab;
  *pos = i;
  return ADDR_OK;
}

static void clear(struct addr *out)
{
  out->s[0] = 0;
  out->len = 0;
  out->at = 0;
  out->flags = 0;
}

static int lcase_eq(const char *a, size_t n, const char *lower)
{
  size_t k = strlen(lower);
  if (n != k) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)a[i];
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
    if (c != (unsigned char)lower[i]) return 0;
  }
  return 1;
}

/* mailbox in wire form at s[*pos..len): local ["@" domain]. Fills out;
   *pos ends just after it. term: the byte that may follow a mailbox
   without domain (-1: only the end of input) */
static int parse_mbox(const unsigned char *s, size_t len, size_t *pos, unsigned opts, struct addr *out, int term)
{
  size_t i = *pos, ln, ds;
  unsigned flags = 0;
  int r = parse_local(s, len, &i, opts, out->s, &ln, &flags);
  if (r) return r;
  if (i >= len || s[i] != '@') {
    if (i < len && s[i] != term) return ADDR_E_SYNTAX;
    /* RFC 5321 4.1.1.3: <Postmaster> without a domain */
    if ((opts & ADDR_O_NODOMAIN) && lcase_eq(out->s, ln, "postmaster")) {
      out->s[ln] = 0;
      out->len = ln;
      out->at = ln;
      out->flags = flags | ADDR_F_NODOMAIN;
      *pos = i;
      return ADDR_OK;
    }
    return ADDR_E_NODOMAIN;
  }
  i++;
  ds = i;
  r = parse_domain(s, len, &i, opts, &flags);
  if (r) return r;
  out->s[ln] = '@';
  memcpy(out->s + ln + 1, s + ds, i - ds);   /* ln <= 256, domain <= 255 */
  out->len = ln + 1 + (i - ds);
  out->s[out->len] = 0;
  out->at = ln;
  out->flags = flags;
  *pos = i;
  return ADDR_OK;
}

/* "@d1,@d2:" at s[*pos..len) (RFC 5321 A-d-l), validated and skipped */
static int skip_route(const unsigned char *s, size_t len, size_t *pos, unsigned opts)
{
  size_t i = *pos;
  unsigned dummy = 0;
  for (;;) {
    int r;
    if (i >= len || s[i] != '@') return ADDR_E_SYNTAX;
    i++;
    r = parse_domain(s, len, &i, opts, &dummy);
    if (r) return r;
    if (i < len && s[i] == ',') { i++; continue; }
    if (i < len && s[i] == ':') { i++; break; }
    return ADDR_E_SYNTAX;
  }
  *pos = i;
  return ADDR_OK;
}

int addr_parse_path(const char *str, size_t len, unsigned opts, struct addr *out, size_t *end)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  unsigned route = 0;
  int r;
  clear(out);
  while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;  /* "MAIL FROM: <a@b>" */
  if (i >= len) return ADDR_E_SYNTAX;
  if (s[i] != '<') {
    if (!(opts & ADDR_O_NOBRACKET)) return ADDR_E_SYNTAX;
    r = parse_mbox(s, len, &i, opts, out, ' ');
    if (r) { clear(out); return r; }
    if (i < len && s[i] != ' ') { clear(out); return ADDR_E_SYNTAX; }
    *end = i;
    return ADDR_OK;
  }
  i++;
  if (i < len && s[i] == '>') {
    if (!(opts & ADDR_O_NULL)) return ADDR_E_NULL;
    out->flags = ADDR_F_NULL;
    *end = i + 1;
    return ADDR_OK;
  }
  if (i < len && s[i] == '@') {
    r = skip_route(s, len, &i, opts);
    if (r) return r;
    route = ADDR_F_ROUTE;
  }
  r = parse_mbox(s, len, &i, opts, out, '>');
  if (r) { clear(out); return r; }
  if (i >= len || s[i] != '>') { clear(out); return ADDR_E_SYNTAX; }
  out->flags |= route;
  *end = i + 1;
  return ADDR_OK;
}

/* internal form: any printable ASCII or valid UTF-8 in the local part,
   split at the last '@' */
static int parse_internal(const unsigned char *s, size_t len, unsigned opts, struct addr *out)
{
  size_t at = len, i;
  unsigned flags = 0;
  for (i = len; i > 0; i--) if (s[i - 1] == '@') { at = i - 1; break; }
  if (at == len) {
    if ((opts & ADDR_O_NODOMAIN) && lcase_eq((const char *)s, len, "postmaster")) flags |= ADDR_F_NODOMAIN;
    else return ADDR_E_NODOMAIN;
  }
  if (!at) return ADDR_E_SYNTAX;
  if (at > ADDR_LOCAL_MAX) return ADDR_E_TOOLONG;
  for (i = 0; i < at;) {
    if (s[i] >= 0x80) {
      size_t k;
      int r = take_utf8(s, at, &i, opts, &k);
      if (r) return r;
      flags |= ADDR_F_UTF8;
    } else if (s[i] < 32 || s[i] > 126) return ADDR_E_SYNTAX;
    else i++;
  }
  if (at < len) {
    size_t p = at + 1;
    int r;
    if (len - p > ADDR_DOMAIN_MAX) return ADDR_E_TOOLONG;
    r = parse_domain(s, len, &p, opts, &flags);
    if (r) return r;
    if (p != len) return ADDR_E_SYNTAX;
  }
  memcpy(out->s, s, len);
  out->s[len] = 0;
  out->len = len;
  out->at = at;
  out->flags = flags;
  {
    /* was the local part a dot-string? if not, it needs quoting on the wire */
    int dot = 1;
    for (i = 0; i < at; i++) {
      unsigned char c = s[i];
      if (c == '.') { if (dot) break; dot = 1; }
      else if (c >= 0x80 || is_atext(c)) dot = 0;
      else break;
    }
    if (i < at || dot) out->flags |= ADDR_F_QUOTED;
  }
  return ADDR_OK;
}

int addr_parse_mailbox(const char *str, size_t len, unsigned opts, struct addr *out)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  int r;
  clear(out);
  if (!len) {
    if (!(opts & ADDR_O_NULL)) return ADDR_E_NULL;
    out->flags = ADDR_F_NULL;
    return ADDR_OK;
  }
  if (len > ADDR_MAX) return ADDR_E_TOOLONG;
  r = parse_mbox(s, len, &i, opts, out, -1);
  if (!r && i == len) return ADDR_OK;
  if (!r) r = ADDR_E_SYNTAX;                 /* trailing garbage */
  clear(out);
  if ((opts & ADDR_O_NOBRACKET) && !memchr(s, '"', len) && r != ADDR_E_UTF8) {
    int r2 = parse_internal(s, len, opts, out);
    if (!r2) return ADDR_OK;
    clear(out);
    return r2;
  }
  return r;
}

int addr_is_postmaster(const struct addr *a)
{
  return lcase_eq(a->s, a->at, "postmaster");
}

size_t addr_quote(char *dst, const char *str, size_t len)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t at = len, i, n = 0;
  int dot = 1, ok = 1;
  if (!len) return 0;
  for (i = len; i > 0; i--) if (s[i - 1] == '@') { at = i - 1; break; }
  for (i = 0; i < at; i++) {
    unsigned char c = s[i];
    if (c == '.') { if (dot) { ok = 0; break; } dot = 1; }
    else if (c >= 0x80 || is_atext(c)) dot = 0;
    else { ok = 0; break; }
  }
  if (dot) ok = 0;
  if (ok) {
    if (dst) memcpy(dst, s, len);
    return len;
  }
  if (dst) dst[n] = '"';
  n++;
  for (i = 0; i < at; i++) {
    if (s[i] == '"' || s[i] == '\\') { if (dst) dst[n] = '\\'; n++; }
    if (dst) dst[n] = (char)s[i];
    n++;
  }
  if (dst) dst[n] = '"';
  n++;
  if (dst) memcpy(dst + n, s + at, len - at);
  return n + (len - at);
}

int addr_domain_valid(const char *d, size_t len, int utf8)
{
  size_t i = 0;
  unsigned flags = 0;
  if (!len || len > ADDR_DOMAIN_MAX) return 0;
  if (parse_domain((const unsigned char *)d, len, &i, utf8 ? ADDR_O_UTF8 : 0, &flags)) return 0;
  return i == len;
}

size_t addr_domain_lower(const struct addr *a, char *dst)
{
  size_t n = 0;
  if (a->at >= a->len) { dst[0] = 0; return 0; }
  for (size_t i = a->at + 1; i < a->len && n < ADDR_DOMAIN_MAX; i++) {
    char c = a->s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    dst[n++] = c;
  }
  dst[n] = 0;
  return n;
}

const char *addr_strerror(int e)
{
  switch (e) {
    case ADDR_OK: return "ok";
    case ADDR_E_SYNTAX: return "address syntax error";
    case ADDR_E_TOOLONG: return "address too long";
    case ADDR_E_UTF8: return "non-ASCII address without SMTPUTF8, or invalid UTF-8";
    case ADDR_E_NULL: return "null address not allowed here";
    case ADDR_E_NODOMAIN: return "address has no domain";
    default: return "unknown address error";
  }
}
