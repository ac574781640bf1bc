/* hdr: input filter, header field names and address lists for tern-inject.
   Pure code: no I/O, no allocation. See hdr.h. */
#include <string.h>
#include "queue/hdr.h"

enum { F_BOL = 0, F_MID, F_CR, F_DOT, F_DOTCR };  /* zero: at the start of a line */

#define EMIT(c) (out[o++] = (c), f->last = (c))

size_t hdr_filter_feed(struct hdr_filter *f, const char *in, size_t len, char *out, size_t *used)
{
  size_t i, o = 0;
  if (f->ended) { *used = 0; return 0; }
  for (i = 0; i < len; i++) {
    char c = in[i];
    switch (f->state) {
      case F_DOT:
        if (c == '\n') { f->ended = 1; *used = i + 1; return o; }
        if (c == '\r') { f->state = F_DOTCR; continue; }
        EMIT('.'); f->state = F_MID;
        break;
      case F_DOTCR:
        if (c == '\n') { f->ended = 1; *used = i + 1; return o; }
        EMIT('.'); EMIT('\r'); f->state = F_MID;
        break;
      case F_CR:
        if (c == '\n') { EMIT('\n'); f->state = F_BOL; continue; }
        EMIT('\r'); f->state = F_MID;
        break;
      default:
        break;
    }
    if (c == '\r') { f->state = F_CR; continue; }
    if (c == '\n') { EMIT('\n'); f->state = F_BOL; continue; }
    if (c == '.' && f->state == F_BOL && f->dotend) { f->state = F_DOT; continue; }
    EMIT(c); f->state = F_MID;
  }
  *used = len;
  return o;
}

size_t hdr_filter_end(struct hdr_filter *f, char *out)
{
  size_t o = 0;
  if (!f->ended) {
    if (f->state == F_DOT) EMIT('.');
    else if (f->state == F_DOTCR) { EMIT('.'); EMIT('\r'); }
    else if (f->state == F_CR) EMIT('\r');
  }
  if (f->last && f->last != '\n') EMIT('\n');
  f->state = F_BOL;
  return o;
}

int hdr_field(const char *line, size_t len, size_t *namelen)
{
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)line[i];
    if (c == ':') break;
    if (c < 33 || c > 126) return 0;
  }
  if (!i || i == len) return 0;
  *namelen = i;
  return 1;
}

int hdr_is(const char *line, size_t len, const char *name)
{
  size_t n = strlen(name), i;
  if (len <= n || line[n] != ':') return 0;
  for (i = 0; i < n; i++) {
    unsigned char a = (unsigned char)line[i], b = (unsigned char)name[i];
    if (a >= 'A' && a <= 'Z') a = (unsigned char)(a + 32);
    if (b >= 'A' && b <= 'Z') b = (unsigned char)(b + 32);
    if (a != b) return 0;
  }
  return 1;
}

/* one address under construction */
struct abuf {
  char s[HDR_ADDR_MAX + 1];
  size_t len;
  int over;
  size_t end;   /* index in the list just past the last byte that went in */
};

static void aput(struct abuf *a, char c)
{
  if (a->len < HDR_ADDR_MAX) a->s[a->len++] = c; else a->over = 1;
}

/* The three bracketed parts of an address list. Each starts at s[i] (the
   opening byte) and returns the index just past its end, or 0 if the part
   is not closed before len (or, for a comment, nests too deep). */

/* a comment: skipped, nested up to HDR_COMMENT_DEPTH */
static size_t skip_comment(const char *s, size_t len, size_t i)
{
  int depth = 0;
  for (; i < len; i++) {
    if (s[i] == '\\') { i++; continue; }
    if (s[i] == '(') { if (++depth > HDR_COMMENT_DEPTH) return 0; }
    else if (s[i] == ')') { if (!--depth) break; }
  }
  return i >= len ? 0 : i + 1;
}

/* a quoted-string: its content into a, unquoted, folding removed */
static size_t copy_quoted(struct abuf *a, const char *s, size_t len, size_t i)
{
  for (i++; i < len && s[i] != '"'; i++) {
    if (s[i] == '\\') { if (++i >= len) return 0; }
    if (s[i] == '\r' || s[i] == '\n') continue;  /* folding inside a quoted-string */
    aput(a, s[i]);
  }
  if (i >= len) return 0;
  a->end = i + 1;
  return i + 1;
}

/* a domain literal: into a with its brackets, white space removed */
static size_t copy_literal(struct abuf *a, const char *s, size_t len, size_t i)
{
  for (; i < len && s[i] != ']'; i++) {
    if (s[i] == '\\') { if (++i >= len) return 0; }
    if (s[i] == '\r' || s[i] == '\n' || s[i] == ' ' || s[i] == '\t') continue;
    aput(a, s[i]);
  }
  if (i >= len) return 0;
  aput(a, ']');
  a->end = i + 1;
  return i + 1;
}

int hdr_addrlist_pos(const char *s, size_t len, hdr_addrpos_cb *cb, void *ctx)
{
  static struct abuf plain, angle;  /* not reentrant; 2 KB off the stack */
  int inangle = 0, gotangle = 0, count = 0;
  size_t i = 0;
  plain.len = angle.len = 0; plain.over = angle.over = 0;
  for (;;) {
    char c = i < len ? s[i] : ',';
    int end = i >= len;
    if (end && inangle) return -1;
    if (c == ',' && inangle) { aput(&angle, c); angle.end = ++i; continue; }  /* source route */
    if (c == ',' || c == ';') {
      struct abuf *a = gotangle ? &angle : &plain;
      if (a->len) {
        if (a->over) return -2;
        a->s[a->len] = 0;
        if (cb(ctx, a->s, a->len, a->end)) return -3;
        count++;
      }
      plain.len = angle.len = 0; plain.over = angle.over = 0; gotangle = 0;
      if (end) return count;
      i++;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { i++; continue; }
    if (c == '(') {
      if (!(i = skip_comment(s, len, i))) return -1;
      continue;
    }
    if (c == '"') {
      if (!(i = copy_quoted(inangle ? &angle : &plain, s, len, i))) return -1;
      continue;
    }
    if (c == '[') {
      if (!(i = copy_literal(inangle ? &angle : &plain, s, len, i))) return -1;
      continue;
    }
    if (c == '<') {
      if (inangle) return -1;
      inangle = 1; gotangle = 0; angle.len = 0; angle.over = 0;
      i++;
      continue;
    }
    if (c == '>') {
      if (inangle) { inangle = 0; gotangle = 1; }
      i++;
      continue;
    }
    if (c == ':') {
      if (inangle) { angle.len = 0; angle.over = 0; }  /* end of a source route */
      else if (!gotangle) { plain.len = 0; plain.over = 0; }  /* a group's display name */
      i++;
      continue;
    }
    if (gotangle && !inangle) { i++; continue; }  /* junk after <addr> */
    aput(inangle ? &angle : &plain, c);
    (inangle ? &angle : &plain)->end = ++i;
  }
}

/* hdr_addrlist: the same walk, the positions dropped */
struct nopos { hdr_addr_cb *cb; void *ctx; };
static int nopos(void *ctx, const char *addr, size_t alen, size_t end)
{
  struct nopos *n = ctx;
  (void)end;
  return n->cb(n->ctx, addr, alen);
}

int hdr_addrlist(const char *s, size_t len, hdr_addr_cb *cb, void *ctx)
{
  struct nopos n = { cb, ctx };
  return hdr_addrlist_pos(s, len, &nopos, &n);
}
