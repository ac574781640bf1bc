/* rspamc: rspamd's /checkv2 answer (queue/rspamc.h). A strict, bounded
   JSON reader (RFC 8259) that keeps only the members tern-rspamc uses.
   Pure: no I/O, no allocation. */
#include <string.h>
#include <strings.h>
#include "queue/rspamc.h"

static const char *const actions[] = {
  "no action", "add header", "rewrite subject", "greylist", "soft reject", "reject"
};

const char *rspamc_action_name(int action)
{
  return action >= 0 && action < RSPAMC_UNKNOWN ? actions[action] : "?";
}

struct js {
  const char *p, *end;
  int depth;
};

static void ws(struct js *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

/* the next byte after blanks is c: consumed, 1; else 0 */
static int eat(struct js *j, char c)
{
  ws(j);
  if (j->p < j->end && *j->p == c) { j->p++; return 1; }
  return 0;
}

static int hex4(const char *s, unsigned *u)
{
  *u = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    *u <<= 4;
    if (c >= '0' && c <= '9') *u |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') *u |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') *u |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  return 1;
}

/* code point u as UTF-8 into out (room checked by the caller: 4 bytes) */
static size_t utf8(char *out, unsigned u)
{
  if (u < 0x80) { out[0] = (char)u; return 1; }
  if (u < 0x800) { out[0] = (char)(0xc0 | (u >> 6)); out[1] = (char)(0x80 | (u & 0x3f)); return 2; }
  if (u < 0x10000) {
    out[0] = (char)(0xe0 | (u >> 12)); out[1] = (char)(0x80 | ((u >> 6) & 0x3f)); out[2] = (char)(0x80 | (u & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | (u >> 18)); out[1] = (char)(0x80 | ((u >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((u >> 6) & 0x3f)); out[3] = (char)(0x80 | (u & 0x3f));
  return 4;
}

/* an escape after the backslash at j->p: its code point, or -1 */
static long escape(struct js *j)
{
  unsigned u, lo;
  char c;
  if (j->p >= j->end) return -1;
  c = *j->p++;
  switch (c) {
    case '"': case '\\': case '/': return c;
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': break;
    default: return -1;
  }
  if (j->end - j->p < 4 || !hex4(j->p, &u)) return -1;
  j->p += 4;
  if (u >= 0xdc00 && u <= 0xdfff) return -1;
  if (u >= 0xd800 && u <= 0xdbff) {
    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || !hex4(j->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff) return -1;
    j->p += 6;
    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
  }
  return (long)u;
}

/* A string at j->p (after blanks). Decoded into out[0..max) when out is
   given; *len its length, or max + 1 if it did not fit (the rest read
   and dropped). 0 on success, -1 if not a well-formed string (or it
   holds \u0000). */
static int string(struct js *j, char *out, size_t max, size_t *len)
{
  size_t n = 0;
  int over = 0;
  ws(j);
  if (j->p >= j->end || *j->p != '"') return -1;
  j->p++;
  for (;;) {
    char tmp[4];
    size_t k;
    unsigned char c;
    if (j->p >= j->end) return -1;
    c = (unsigned char)*j->p++;
    if (c == '"') break;
    if (c < 0x20) return -1;
    if (c == '\\') {
      long u = escape(j);
      if (u <= 0) return -1;
      k = utf8(tmp, (unsigned)u);
    } else { tmp[0] = (char)c; k = 1; }
    if (!out) continue;
    if (over || n + k > max) { over = 1; continue; }
    memcpy(out + n, tmp, k);
    n += k;
  }
  if (len) *len = over ? max + 1 : n;
  return 0;
}

/* a number (RFC 8259 grammar); its text into out (32 bytes, cut) if given */
static int number(struct js *j, char *out)
{
  const char *s;
  ws(j);
  s = j->p;
  if (j->p < j->end && *j->p == '-') j->p++;
  if (j->p >= j->end) return -1;
  if (*j->p == '0') j->p++;
  else if (*j->p >= '1' && *j->p <= '9') while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  else return -1;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (out) {
    size_t n = (size_t)(j->p - s);
    if (n > 31) n = 31;
    memcpy(out, s, n);
    out[n] = 0;
  }
  return 0;
}

static int value(struct js *j);

/* Walk an object: for each member, key decoded into key (RSPAMC_STR_MAX),
   then member(j, key, keylen, ctx) reads the value (0 ok, -1 bad). */
typedef int member_fn(struct js *j, const char *key, size_t keylen, void *ctx);
static int object(struct js *j, member_fn *member, void *ctx)
{
  char key[RSPAMC_STR_MAX];
  if (!eat(j, '{')) return -1;
  if (++j->depth > RSPAMC_DEPTH) return -1;
  if (!eat(j, '}')) {
    do {
      size_t kl;
      if (string(j, key, sizeof key, &kl) < 0 || !eat(j, ':')) return -1;
      if (kl > sizeof key) kl = 0;  /* too long to be a key we use */
      if ((member ? member(j, key, kl, ctx) : value(j)) < 0) return -1;
    } while (eat(j, ','));
    if (!eat(j, '}')) return -1;
  }
  j->depth--;
  return 0;
}

static int word(struct js *j, const char *w)
{
  size_t n = strlen(w);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n)) return -1;
  j->p += n;
  return 0;
}

/* any value, read and dropped */
static int value(struct js *j)
{
  ws(j);
  if (j->p >= j->end) return -1;
  switch (*j->p) {
    case '{': return object(j, 0, 0);
    case '[':
      j->p++;
      if (++j->depth > RSPAMC_DEPTH) return -1;
      if (!eat(j, ']')) {
        do if (value(j) < 0) return -1; while (eat(j, ','));
        if (!eat(j, ']')) return -1;
      }
      j->depth--;
      return 0;
    case '"': return string(j, 0, 0, 0);
    case 't': return word(j, "true");
    case 'f': return word(j, "false");
    case 'n': return word(j, "null");
    default: return number(j, 0);
  }
}

static int keyis(const char *key, size_t kl, const char *w)
{
  return strlen(w) == kl && !memcmp(key, w, kl);
}

/* printable ASCII copy (others '?'), cut to max - 1, NUL-terminated */
static void printable(char *dst, size_t max, const char *s, size_t n)
{
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < max; i++)
    dst[k++] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e ? s[i] : '?';
  dst[k] = 0;
}

/* ---- the members used ---- */

struct hdr_ctx {
  struct rspamc_verdict *v;
  const char *name;
  size_t namelen;
};

size_t rspamc_field(char *out, size_t max, const char *name, size_t namelen, const char *value, size_t valuelen)
{
  size_t o = 0;
  if (!namelen || namelen > 76) return 0;
  for (size_t i = 0; i < namelen; i++)
    if ((unsigned char)name[i] < 33 || (unsigned char)name[i] > 126 || name[i] == ':') return 0;
  if (namelen + 2 > max) return 0;
  memcpy(out, name, namelen);
  o = namelen;
  out[o++] = ':';
  out[o++] = ' ';
  for (size_t i = 0; i < valuelen; i++) {
    unsigned char c = (unsigned char)value[i];
    if (!c) return 0;
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < valuelen && value[i + 1] == '\n') i++;
      if (i + 1 >= valuelen) break;  /* a line end at the very end: dropped */
      if (o + 2 > max) return 0;
      out[o++] = '\n';
      if (value[i + 1] != ' ' && value[i + 1] != '\t') out[o++] = '\t';
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f) c = ' ';
    if (o + 1 > max) return 0;
    out[o++] = (char)c;
  }
  if (o + 1 > max) return 0;
  out[o++] = '\n';
  return o;
}

/* one field of add_headers: the value (a string) of name */
static void add_field(struct rspamc_verdict *v, const char *name, size_t namelen, const char *val, size_t vl)
{
  size_t k = rspamc_field(v->hdrs + v->hdrslen, sizeof v->hdrs - v->hdrslen, name, namelen, val, vl);
  if (!k) return;
  v->hdrslen += k;
  v->nhdrs++;
  if (namelen == 6 && !strncasecmp(name, "X-Spam", 6)) v->xspam = 1;
}

/* {"value": STRING, "order": N, ...}: the value */
static int hval_member(struct js *j, const char *key, size_t kl, void *ctx)
{
  struct hdr_ctx *h = ctx;
  char val[RSPAMC_STR_MAX];
  size_t vl;
  ws(j);
  if (!keyis(key, kl, "value") || j->p >= j->end || *j->p != '"') return value(j);
  if (string(j, val, sizeof val, &vl) < 0) return -1;
  if (vl <= sizeof val) add_field(h->v, h->name, h->namelen, val, vl);
  return 0;
}

/* one header's value: a string, an object with "value", an array of those */
static int hval(struct js *j, struct hdr_ctx *h, int inarray)
{
  char val[RSPAMC_STR_MAX];
  size_t vl;
  ws(j);
  if (j->p >= j->end) return -1;
  if (*j->p == '"') {
    if (string(j, val, sizeof val, &vl) < 0) return -1;
    if (vl <= sizeof val) add_field(h->v, h->name, h->namelen, val, vl);
    return 0;
  }
  if (*j->p == '{') return object(j, hval_member, h);
  if (*j->p == '[' && !inarray) {
    j->p++;
    if (++j->depth > RSPAMC_DEPTH) return -1;
    if (!eat(j, ']')) {
      do if (hval(j, h, 1) < 0) return -1; while (eat(j, ','));
      if (!eat(j, ']')) return -1;
    }
    j->depth--;
    return 0;
  }
  return value(j);
}

static int addh_member(struct js *j, const char *key, size_t kl, void *ctx)
{
  struct hdr_ctx h;
  h.v = ctx;
  h.name = key;
  h.namelen = kl;
  return hval(j, &h, 0);
}

static int milter_member(struct js *j, const char *key, size_t kl, void *ctx)
{
  ws(j);
  if (keyis(key, kl, "add_headers") && j->p < j->end && *j->p == '{') return object(j, addh_member, ctx);
  return value(j);
}

static int messages_member(struct js *j, const char *key, size_t kl, void *ctx)
{
  struct rspamc_verdict *v = ctx;
  char s[RSPAMC_MSG_MAX];
  size_t n;
  ws(j);
  if (!keyis(key, kl, "smtp_message") || j->p >= j->end || *j->p != '"') return value(j);
  if (string(j, s, sizeof s, &n) < 0) return -1;
  printable(v->message, sizeof v->message, s, n > sizeof s ? sizeof s : n);
  return 0;
}

static int symbols_member(struct js *j, const char *key, size_t kl, void *ctx)
{
  struct rspamc_verdict *v = ctx;
  size_t have = strlen(v->symbols);
  if (kl && have + kl + 2 < sizeof v->symbols) {
    if (have) v->symbols[have++] = ',';
    printable(v->symbols + have, sizeof v->symbols - have, key, kl);
  }
  return value(j);
}

static int top_member(struct js *j, const char *key, size_t kl, void *ctx)
{
  struct rspamc_verdict *v = ctx;
  ws(j);
  if (j->p >= j->end) return -1;
  if (keyis(key, kl, "action") && *j->p == '"') {
    char a[32];
    size_t n;
    if (string(j, a, sizeof a, &n) < 0) return -1;
    v->action = RSPAMC_UNKNOWN;
    for (int i = 0; i < RSPAMC_UNKNOWN; i++)
      if (n == strlen(actions[i]) && !memcmp(a, actions[i], n)) v->action = i;
    return 0;
  }
  if (keyis(key, kl, "score") && *j->p != '{' && *j->p != '[' && *j->p != '"') return number(j, v->score);
  if (keyis(key, kl, "required_score") && *j->p != '{' && *j->p != '[' && *j->p != '"') return number(j, v->required);
  if (keyis(key, kl, "messages") && *j->p == '{') return object(j, messages_member, v);
  if (keyis(key, kl, "symbols") && *j->p == '{') return object(j, symbols_member, v);
  if (keyis(key, kl, "milter") && *j->p == '{') return object(j, milter_member, v);
  return value(j);
}

static void clear(struct rspamc_verdict *v)
{
  v->action = RSPAMC_UNKNOWN;
  v->score[0] = v->required[0] = v->message[0] = v->symbols[0] = 0;
  v->nhdrs = v->hdrslen = 0;
  v->xspam = 0;
}

/* the status code of an HTTP/1.x status line, and where the body starts */
static int http_head(const char *r, size_t n, size_t *body)
{
  int code = 0;
  if (n < 12 || memcmp(r, "HTTP/1.", 7) || (r[7] != '0' && r[7] != '1') || r[8] != ' ') return -1;
  for (int i = 9; i < 12; i++) {
    if (r[i] < '0' || r[i] > '9') return -1;
    code = code * 10 + (r[i] - '0');
  }
  for (size_t i = 12; i + 1 < n; i++) {
    if (r[i] == '\n' && r[i + 1] == '\n') { *body = i + 2; return code; }
    if (i + 3 < n && r[i] == '\r' && r[i + 1] == '\n' && r[i + 2] == '\r' && r[i + 3] == '\n') { *body = i + 4; return code; }
  }
  return -1;
}

int rspamc_reply(const char *r, size_t n, struct rspamc_verdict *v)
{
  struct js j;
  size_t body;
  clear(v);
  if (n > RSPAMC_REPLY_MAX || http_head(r, n, &body) != 200) return -1;
  j.p = r + body;
  j.end = r + n;
  j.depth = 0;
  ws(&j);
  if (j.p >= j.end || *j.p != '{' || object(&j, top_member, v) < 0) { clear(v); return -1; }
  ws(&j);
  if (j.p != j.end) { clear(v); return -1; }
  return 0;
}
