/* dkimcanon: DKIM relaxed canonicalisation (RFC 6376 sections 3.4.2 and
   3.4.4) and the header steps of the signer (common/dkimcanon.h). */
#include <string.h>
#include "common/dkimcanon.h"

static int is_wsp(char c) { return c == ' ' || c == '\t'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* the held-back empty lines, before content follows them */
static void flush_blank(struct dkim_body *b, dkim_out *out, void *ctx)
{
  for (; b->blank; b->blank--) out(ctx, "\r\n", 2);
}

/* one content byte of a line (anything but SP, TAB and a line end) */
static void body_byte(struct dkim_body *b, char c, dkim_out *out, void *ctx)
{
  if (!b->content) flush_blank(b, out, ctx);
  if (b->wsp) out(ctx, " ", 1);
  b->wsp = 0;
  out(ctx, &c, 1);
  b->content = 1;
}

static void line_end(struct dkim_body *b, dkim_out *out, void *ctx)
{
  if (b->content) out(ctx, "\r\n", 2);
  else b->blank++;
  b->wsp = 0;
  b->content = 0;
}

void dkim_body_feed(struct dkim_body *b, const char *s, size_t n, dkim_out *out, void *ctx)
{
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (b->cr) {
      b->cr = 0;
      if (c == '\n') { line_end(b, out, ctx); continue; }
      body_byte(b, '\r', out, ctx);
    }
    if (c == '\r') b->cr = 1;
    else if (c == '\n') line_end(b, out, ctx);
    else if (is_wsp(c)) b->wsp = 1;
    else body_byte(b, c, out, ctx);
  }
}

void dkim_body_end(struct dkim_body *b, dkim_out *out, void *ctx)
{
  if (b->cr) body_byte(b, '\r', out, ctx);
  b->cr = 0;
  if (b->content) out(ctx, "\r\n", 2);
  b->content = 0;
  b->wsp = 0;
  b->blank = 0;
}

size_t dkim_blank_len(const char *s, size_t n)
{
  if (n >= 1 && s[0] == '\n') return 1;
  if (n >= 2 && s[0] == '\r' && s[1] == '\n') return 2;
  return 0;
}

size_t dkim_field_len(const char *s, size_t n)
{
  size_t i = 0;
  if (!n || dkim_blank_len(s, n)) return 0;
  for (;;) {
    const char *lf = memchr(s + i, '\n', n - i);
    if (!lf) return n;
    i = (size_t)(lf - s) + 1;
    if (i >= n || !is_wsp(s[i])) return i;
  }
}

/* the name's end (the colon's index, spaces and tabs before it allowed)
   and the name's length; 0 if no colon ends a non-empty name */
static size_t name_end(const char *f, size_t n, size_t *namelen)
{
  size_t i = 0, l;
  while (i < n && f[i] != ':' && f[i] != '\n' && f[i] != '\r') i++;
  if (i >= n || f[i] != ':') return 0;
  l = i;
  while (l && is_wsp(f[l - 1])) l--;
  if (!l) return 0;
  *namelen = l;
  return i;
}

size_t dkim_relax_header(char *out, const char *f, size_t n, int crlf)
{
  size_t nl, colon, o = 0, i;
  int wsp = 0, started = 0;
  if (!(colon = name_end(f, n, &nl))) return 0;
  for (i = 0; i < nl; i++) out[o++] = lower(f[i]);
  out[o++] = ':';
  for (i = colon + 1; i < n; i++) {
    char c = f[i];
    if (c == '\n' || (c == '\r' && i + 1 < n && f[i + 1] == '\n')) continue;
    if (is_wsp(c)) { wsp = 1; continue; }
    if (wsp && started) out[o++] = ' ';
    wsp = 0;
    started = 1;
    out[o++] = c;
  }
  if (crlf) { out[o++] = '\r'; out[o++] = '\n'; }
  return o;
}

int dkim_field_is(const char *f, size_t n, const char *name)
{
  size_t nl, l = strlen(name);
  if (!name_end(f, n, &nl) || nl != l) return 0;
  for (size_t i = 0; i < l; i++)
    if (lower(f[i]) != lower(name[i])) return 0;
  return 1;
}

/* a host name: letters, digits, '-' and '.' (and '_' if under), no
   leading, trailing or doubled dot, 1..253 bytes */
static int host_ok(const char *s, size_t l, int under)
{
  if (!l || l > 253 || s[0] == '.' || s[l - 1] == '.') return 0;
  for (size_t i = 0; i < l; i++) {
    char c = s[i];
    if (c == '.' && s[i + 1] == '.') return 0;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || (under && c == '_'))) return 0;
  }
  return 1;
}

int dkim_name_ok(const char *s) { return host_ok(s, strlen(s), 1); }

/* the address in f[from..n): a[] gets the last <...> content, or the
   value without comments, quotes kept; its length, or (size_t)-1 when the
   value holds two addresses or a is too small */
static size_t from_addr(char *a, size_t cap, const char *f, size_t from, size_t n)
{
  size_t l = 0, i;
  int depth = 0, quote = 0, angle = 0, seen_angle = 0;
  for (i = from; i < n; i++) {
    char c = f[i];
    if (c == '\r' || c == '\n') continue;
    if (quote) {
      if (c == '\\' && i + 1 < n) { i++; if (!seen_angle || angle) { if (l + 2 > cap) return (size_t)-1; a[l++] = c; a[l++] = f[i]; } continue; }
      if (c == '"') quote = 0;
    } else if (depth) {
      if (c == '\\') i++;
      else if (c == '(') depth++;
      else if (c == ')') depth--;
      continue;
    } else if (c == '(') { depth = 1; continue; }
    else if (c == '"') quote = 1;
    else if (c == '<') { angle = 1; seen_angle = 1; l = 0; continue; }
    else if (c == '>') { angle = 0; continue; }
    else if (c == ',' && !angle) return (size_t)-1;
    if (seen_angle && !angle) continue;
    if (is_wsp(c) && !quote) continue;
    if (l + 1 > cap) return (size_t)-1;
    a[l++] = c;
  }
  return l;
}

size_t dkim_from_domain(char *dom, size_t cap, const char *f, size_t n)
{
  char a[1024];
  size_t nl, colon, l, at, dl;
  if (!cap) return 0;
  dom[0] = 0;
  if (!(colon = name_end(f, n, &nl))) return 0;
  l = from_addr(a, sizeof a, f, colon + 1, n);
  if (l == (size_t)-1 || !l) return 0;
  for (at = l; at && a[at - 1] != '@'; at--) {}
  if (!at) return 0;
  dl = l - at;
  if (dl + 1 > cap) return 0;
  for (size_t i = 0; i < dl; i++) dom[i] = lower(a[at + i]);
  dom[dl] = 0;
  if (!host_ok(dom, dl, 0)) { dom[0] = 0; return 0; }
  return dl;
}
