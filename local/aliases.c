/* local/aliases.c: the sendmail-style aliases file parser (aliases.h). */
#include <string.h>
#include "local/aliases.h"

static char ebuf[ALIASES_ENTRY_MAX + 1];   /* the current entry, joined */
static struct alias_value vals[ALIASES_VALUES_MAX];
/* aliases_parse_list has its own, so that an entry callback may call it */
static char lbuf[ALIASES_ENTRY_MAX + 1];
static struct alias_value lvals[ALIASES_VALUES_MAX];

static int blank(char c) { return c == ' ' || c == '\t'; }

static int prefix_ci(const char *s, size_t len, const char *p)
{
  size_t n = strlen(p);
  if (len < n) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != p[i]) return 0;
  }
  return 1;
}

/* a path: '/' first, printable, no blanks */
static const char *path_ok(const char *s, size_t len)
{
  if (!len || s[0] != '/') return "path must be absolute";
  if (len > ALIASES_VALUE_MAX) return "value too long";
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return "blank or control character in a path";
  return 0;
}

const char *aliases_value(char *s, size_t len, struct alias_value *v)
{
  const char *e;
  size_t i, at = 0;
  int ats = 0;
  if (!len) return "empty value";
  if (memchr(s, 0, len)) return "NUL byte";
  if (s[0] == '|') {
    if (len == 1) return "empty command";
    if (len - 1 > ALIASES_VALUE_MAX) return "value too long";
    for (i = 1; i < len; i++)
      if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || (unsigned char)s[i] == 0x7f) return "control character in a command";
    s[len] = 0;
    v->type = ALIAS_PROG; v->s = s + 1; v->len = len - 1;
    return 0;
  }
  if (s[0] == '/') {
    if ((e = path_ok(s, len))) return e;
    s[len] = 0;
    v->type = ALIAS_FILE; v->s = s; v->len = len;
    return 0;
  }
  if (prefix_ci(s, len, ":include:")) {
    s += 9; len -= 9;
    while (len && blank(*s)) { s++; len--; }
    if ((e = path_ok(s, len))) return e;
    s[len] = 0;
    v->type = ALIAS_INCLUDE; v->s = s; v->len = len;
    return 0;
  }
  /* an address */
  if (s[0] == '\\') { s++; len--; }
  if (len >= 2 && s[0] == '<' && s[len - 1] == '>') { s++; len -= 2; }
  if (!len) return "empty address";
  if (len > ALIASES_ADDR_MAX) return "address too long";
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || strchr("<>()\",;:\\[]", c)) return "not a plain address (blank, quote or special character)";
    if (c == '@') { ats++; at = i; }
  }
  if (ats > 1) return "more than one '@' in an address";
  if (ats && (at == 0 || at == len - 1)) return "empty local part or domain";
  if (s[0] == '.' || s[0] == '-' ) return "address starts with '.' or '-'";
  s[len] = 0;
  v->type = ALIAS_ADDR; v->s = s; v->len = len;
  return 0;
}

/* a name: printable, no '/', ':' or blanks; not a -default name */
static const char *name_ok(char *s, size_t len)
{
  if (!len) return "empty alias name";
  if (len > ALIASES_NAME_MAX) return "alias name too long";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '"' || c == '\\') return "bad character in alias name";
    if (c >= 'A' && c <= 'Z') s[i] = (char)(c + 32);
  }
  if ((len == 7 && !memcmp(s, "default", 7)) || (len > 7 && !memcmp(s + len - 8, "-default", 8)))
    return "alias name 'default' or '...-default' would be a catch-all";
  if (len == 15 && !memcmp(s, "newaliases-list", 15)) return "alias name reserved for tern-newaliases";
  return 0;
}

/* split ebuf[from..blen) on commas outside quotes; 0 ok (vals[0..*nv)) or an error */
static const char *split(char *ebuf, struct alias_value *vals, size_t from, size_t blen, size_t *nv, int onlyaddr)
{
  size_t i = from;
  *nv = 0;
  while (i < blen) {
    size_t st, en, next;
    int q = 0;
    const char *e;
    for (en = i; en < blen; en++) {
      if (ebuf[en] == '"') q = !q;
      else if (ebuf[en] == ',' && !q) break;
    }
    if (q) return "unbalanced '\"'";
    next = en + 1;
    st = i;
    while (st < en && blank(ebuf[st])) st++;
    while (en > st && blank(ebuf[en - 1])) en--;
    i = next;
    if (st == en) continue;   /* empty piece: "a,,b" or a trailing comma */
    if (ebuf[st] == '"') {
      if (en - st < 2 || ebuf[en - 1] != '"') return "text after a quoted value";
      st++; en--;
      if (memchr(ebuf + st, '"', en - st)) return "'\"' inside a quoted value";
      while (st < en && blank(ebuf[st])) st++;
    } else if (memchr(ebuf + st, '"', en - st)) return "'\"' inside a value";
    if (*nv == ALIASES_VALUES_MAX) return "too many values";
    if ((e = aliases_value(ebuf + st, en - st, &vals[*nv]))) return e;
    if (onlyaddr && vals[*nv].type != ALIAS_ADDR) return "only addresses are allowed in an :include: file";
    ++*nv;
  }
  return 0;
}

struct entry_state {
  size_t blen;
  unsigned long line;   /* first line of the entry; 0 = none */
  const char *bad;      /* why the entry is bad, or 0 */
};

static int finish(struct entry_state *st, aliases_entry_fn entry, aliases_error_fn err, void *ctx)
{
  const char *e = st->bad;
  char *colon;
  size_t nlen, nv = 0;
  if (!st->line) return 0;
  if (!e) {
    colon = memchr(ebuf, ':', st->blen);
    if (!colon) e = "no ':' after the alias name";
    else {
      nlen = (size_t)(colon - ebuf);
      while (nlen && blank(ebuf[nlen - 1])) nlen--;
      e = name_ok(ebuf, nlen);
      if (!e) e = split(ebuf, vals, (size_t)(colon - ebuf) + 1, st->blen, &nv, 0);
      if (!e && !nv) e = "no values";
      if (!e) {
        ebuf[nlen] = 0;   /* overwrites a blank or the ':' */
        entry(ctx, st->line, ebuf, nlen, vals, nv);
      }
    }
  }
  if (e) err(ctx, st->line, e);
  st->line = 0; st->blen = 0; st->bad = 0;
  return !e;
}

static void append(struct entry_state *st, const char *s, size_t n)
{
  if (st->bad) return;
  if (memchr(s, 0, n)) { st->bad = "NUL byte"; return; }
  if (n > ALIASES_ENTRY_MAX - st->blen) { st->bad = "entry too long"; return; }
  memcpy(ebuf + st->blen, s, n);
  st->blen += n;
}

/* the line at buf[*pos] (its length in *n, without LF and a CR before
   it); *pos moves past it */
static const char *next_line(const char *buf, size_t len, size_t *pos, size_t *n)
{
  const char *s = buf + *pos, *nl = memchr(s, '\n', len - *pos);
  size_t e = nl ? (size_t)(nl - buf) : len;
  *n = e - *pos;
  *pos = nl ? e + 1 : len;
  if (*n && s[*n - 1] == '\r') (*n)--;
  return s;
}

long aliases_parse(const char *buf, size_t len, aliases_entry_fn entry, aliases_error_fn err, void *ctx)
{
  struct entry_state st = { 0, 0, 0 };
  size_t pos = 0;
  unsigned long line = 0;
  long good = 0;
  if (len > ALIASES_FILE_MAX) return -1;
  while (pos < len) {
    size_t n, k;
    const char *s = next_line(buf, len, &pos, &n);
    line++;
    if (n && s[0] == '#') continue;
    for (k = 0; k < n && blank(s[k]); k++) ;
    if (k == n) continue;   /* blank line */
    if (k) {   /* continuation */
      if (!st.line) { err(ctx, line, "continuation line without an entry"); continue; }
      append(&st, " ", 1);
      append(&st, s + k, n - k);
      continue;
    }
    good += finish(&st, entry, err, ctx);
    st.line = line;
    append(&st, s, n);
  }
  good += finish(&st, entry, err, ctx);
  return good;
}

long aliases_parse_list(const char *buf, size_t len, aliases_addr_fn addr, aliases_error_fn err, void *ctx)
{
  size_t pos = 0;
  unsigned long line = 0;
  long good = 0;
  if (len > ALIASES_FILE_MAX) return -1;
  while (pos < len) {
    size_t n, nv = 0;
    const char *s = next_line(buf, len, &pos, &n), *why;
    line++;
    if (n && s[0] == '#') continue;
    if (n > ALIASES_ENTRY_MAX) { err(ctx, line, "line too long"); continue; }
    if (memchr(s, 0, n)) { err(ctx, line, "NUL byte"); continue; }
    memcpy(lbuf, s, n);
    why = split(lbuf, lvals, 0, n, &nv, 1);
    if (why) { err(ctx, line, why); continue; }
    for (size_t i = 0; i < nv; i++) { addr(ctx, line, lvals[i].s, lvals[i].len); good++; }
  }
  return good;
}
