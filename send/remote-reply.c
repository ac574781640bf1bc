/* remote-reply.c: incremental SMTP reply parser with hard limits (see
   remote-reply.h). libc only; used by tern-remote (edge) and
   remote-reply-fuzz. */
#include <string.h>
#include "send/remote-reply.h"

enum { S_CODE, S_TEXT, S_DONE, S_ERR };

void reply_init(struct reply *r)
{
  memset(r, 0, sizeof *r);
  r->state = S_CODE;
}

static void keep(struct reply *r, char c)
{
  if (r->textlen < REPLY_TEXT_MAX) r->text[r->textlen++] = c;
  else r->truncated = 1;
  r->text[r->textlen] = 0;
}

static void keepsafe(struct reply *r, char c)
{
  unsigned char u = (unsigned char)c;
  keep(r, (u >= 0x20 && u <= 0x7e) ? c : '?');
}

static int fail(struct reply *r, int e)
{
  r->state = S_ERR;
  r->err = e;
  r->code = 0;
  return e;
}

/* a line ended (LF seen); linelen counts every octet of it */
static int endline(struct reply *r)
{
  if (r->linelen < 3) return fail(r, REPLY_E_CODE);
  r->lines++;
  if (r->last) {
    r->code = r->linecode;
    r->state = S_DONE;
    return REPLY_DONE;
  }
  if (r->lines >= REPLY_LINES_MAX) return fail(r, REPLY_E_LINES);
  r->linelen = 0;
  r->state = S_CODE;
  return REPLY_MORE;
}

int reply_feed(struct reply *r, const char *s, size_t len, size_t *used)
{
  size_t i = 0;
  int ret = REPLY_MORE;
  if (r->state == S_DONE) { *used = 0; return REPLY_DONE; }
  if (r->state == S_ERR) { *used = 0; return r->err; }
  while (i < len) {
    char c = s[i++];
    if (++r->linelen > REPLY_LINE_MAX) { ret = fail(r, REPLY_E_LINE); break; }
    if (r->state == S_CODE) {
      size_t pos = r->linelen - 1;
      /* pending CR after the code: only LF may follow */
      if (pos == 4 && r->last == 2) {
        if (c != '\n') { ret = fail(r, REPLY_E_CODE); break; }
        r->last = 1;
        ret = endline(r);
        if (ret != REPLY_MORE) break;
        continue;
      }
      if (pos == 0) {
        if (c < '2' || c > '5') { ret = fail(r, REPLY_E_CODE); break; }
        if (r->lines) keep(r, '\n');
        r->linecode = (c - '0') * 100;
        r->last = 0;
      } else if (pos < 3) {
        if (c < '0' || c > '9') { ret = fail(r, REPLY_E_CODE); break; }
        r->linecode += (c - '0') * (pos == 1 ? 10 : 1);
      }
      if (pos < 3) {
        keep(r, c);
        if (pos == 2 && r->lines && r->linecode != r->firstcode) { ret = fail(r, REPLY_E_CODE); break; }
        if (pos == 2 && !r->lines) r->firstcode = r->linecode;
        continue;
      }
      /* pos == 3: the separator */
      if (c == '-') { keep(r, c); r->state = S_TEXT; r->last = 0; continue; }
      if (c == ' ') { keep(r, c); r->state = S_TEXT; r->last = 1; continue; }
      if (c == '\n') { r->last = 1; ret = endline(r); if (ret != REPLY_MORE) break; continue; }
      if (c == '\r') { r->last = 2; continue; }
      ret = fail(r, REPLY_E_CODE);
      break;
    }
    /* S_TEXT; r->last is 0 or 1, bit 2 (value 4) marks a pending CR */
    if (r->last & 4) {
      r->last &= ~4;
      if (c == '\n') { ret = endline(r); if (ret != REPLY_MORE) break; continue; }
      keep(r, '?');
    }
    if (c == '\r') { r->last |= 4; continue; }
    if (c == '\n') { ret = endline(r); if (ret != REPLY_MORE) break; continue; }
    keepsafe(r, c);
  }
  if (r->state != S_DONE && r->state != S_ERR) r->code = 0;
  *used = i;
  return ret;
}

const char *reply_strerror(int e)
{
  switch (e) {
    case REPLY_E_CODE: return "reply line without a valid 3-digit code";
    case REPLY_E_LINE: return "reply line too long";
    case REPLY_E_LINES: return "multi-line reply with too many lines";
    default: return "no error";
  }
}

static int casestart(const char *s, size_t n, const char *kw)
{
  size_t k = strlen(kw);
  if (n < k) return 0;
  for (size_t i = 0; i < k; i++) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = (char)(c - 32);
    if (c != kw[i]) return 0;
  }
  return n == k || s[k] == ' ';
}

/* the mechanisms after "AUTH ": PLAIN and LOGIN, any case */
static void authwords(const char *l, size_t n, struct ehlo *e)
{
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && l[j] != ' ') j++;
    if (j - i == 5 && casestart(l + i, 5, "PLAIN")) e->authplain = 1;
    if (j - i == 5 && casestart(l + i, 5, "LOGIN")) e->authlogin = 1;
    i = j + 1;
  }
}

void reply_ehlo(const struct reply *r, struct ehlo *e)
{
  size_t i = 0, n = r->textlen;
  memset(e, 0, sizeof *e);
  if (r->code < 200 || r->code > 299) return;
  /* skip the first line (the greeting domain) */
  while (i < n && r->text[i] != '\n') i++;
  while (i < n) {
    size_t start, end;
    i++; /* past '\n' */
    start = i + 4; /* "250-" or "250 " */
    end = i;
    while (end < n && r->text[end] != '\n') end++;
    if (start <= end) {
      const char *l = r->text + start;
      size_t ll = end - start;
      if (casestart(l, ll, "PIPELINING")) e->pipelining = 1;
      else if (casestart(l, ll, "8BITMIME")) e->eightbitmime = 1;
      else if (casestart(l, ll, "SMTPUTF8")) e->smtputf8 = 1;
      else if (casestart(l, ll, "STARTTLS")) e->starttls = 1;
      else if (ll > 4 && (l[4] == ' ' || l[4] == '=') && casestart(l, 4, "AUTH")) authwords(l + 5, ll - 5, e);
      else if (casestart(l, ll, "SIZE")) {
        unsigned long v = 0;
        size_t j = 4;
        e->size = 1;
        while (j < ll && l[j] == ' ') j++;
        for (; j < ll && l[j] >= '0' && l[j] <= '9'; j++) {
          if (v > (~0UL - 9) / 10) { v = 0; break; } /* absurd: treat as no limit */
          v = v * 10 + (unsigned long)(l[j] - '0');
        }
        e->sizemax = v;
      }
    }
    i = end;
  }
}
