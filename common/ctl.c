/* ctl: qmail-control(5) files. Single values are the first line, lists
   are the non-blank, non-comment lines; trailing SP, TAB and CR go. A
   missing file means the default; every other failure is an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/ctl.h"
#include "common/ctl_internal.h"

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* First-line state: buf[0..n) committed, then pend trailing blanks (stored
   as long as they fit). A non-blank byte after them commits them. */
struct line { size_t n, pend; int done; };

/* 0: go on; 1: end of line seen; -1: error (errno) */
static int line_feed(struct line *st, const char *b, size_t len, char *buf, size_t max)
{
  for (size_t i = 0; i < len; i++) {
    char c = b[i];
    if (c == '\n') { st->done = 1; return 1; }
    if (!c) { errno = EINVAL; return -1; }
    if (blank(c)) {
      if (st->n + st->pend < max - 1) buf[st->n + st->pend] = c;
      if (++st->pend > CTL_LIST_MAX) { errno = EFBIG; return -1; }
      continue;
    }
    if (st->n + st->pend >= max - 1) { errno = EFBIG; return -1; }
    buf[st->n + st->pend] = c;
    st->n += st->pend + 1;
    st->pend = 0;
  }
  return 0;
}

int ctl_parse_line(const char *b, size_t n, char *buf, size_t max, size_t *len)
{
  struct line st = { 0, 0, 0 };
  if (!max) { errno = EINVAL; return -1; }
  buf[0] = 0;
  *len = 0;
  if (line_feed(&st, b, n, buf, max) < 0) { buf[0] = 0; return -1; }
  buf[st.n] = 0;
  *len = st.n;
  return 1;
}

int ctl_readline(const char *path, char *buf, size_t max, size_t *len)
{
  struct line st = { 0, 0, 0 };
  char tmp[4096];
  int fd, r = 0;
  *len = 0;
  if (!max) { errno = EINVAL; return -1; }
  buf[0] = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  for (;;) {
    ssize_t k = read(fd, tmp, sizeof tmp);
    if (k < 0) {
      if (errno == EINTR) continue;
      r = -1;
      break;
    }
    if (!k) break;
    r = line_feed(&st, tmp, (size_t)k, buf, max);
    if (r) break;
  }
  {
    int e = errno;
    close(fd);
    errno = e;
  }
  if (r < 0) { buf[0] = 0; return -1; }
  buf[st.n] = 0;
  *len = st.n;
  return 1;
}

static void list_zero(struct ctl_list *l) { l->s = 0; l->len = 0; l->n = 0; }

int ctl_parse_list(const char *b, size_t n, struct ctl_list *l)
{
  size_t i = 0, out = 0, cnt = 0;
  char *s;
  list_zero(l);
  if (n > CTL_LIST_MAX) { errno = EFBIG; return -1; }
  if (memchr(b, 0, n)) { errno = EINVAL; return -1; }
  s = malloc(n + 1);
  if (!s) { errno = ENOMEM; return -1; }
  while (i < n) {
    const char *nl = memchr(b + i, '\n', n - i);
    size_t e = nl ? (size_t)(nl - b) : n, k = e;
    while (k > i && blank(b[k - 1])) k--;
    if (k > i && b[i] != '#') {
      memcpy(s + out, b + i, k - i);
      out += k - i;
      s[out++] = 0;
      cnt++;
    }
    i = e + 1;
  }
  if (!cnt) { free(s); return 1; }
  l->s = s;
  l->len = out;
  l->n = cnt;
  return 1;
}

int ctl_readlist(const char *path, struct ctl_list *l)
{
  char *b = 0;
  size_t n = 0, cap = 0;
  int fd, r;
  list_zero(l);
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  for (;;) {
    ssize_t k;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 4096;
      char *nb;
      if (cap > CTL_LIST_MAX) { errno = EFBIG; goto fail; }
      if (nc > CTL_LIST_MAX + 1) nc = CTL_LIST_MAX + 1;
      nb = realloc(b, nc);
      if (!nb) { errno = ENOMEM; goto fail; }
      b = nb;
      cap = nc;
    }
    k = read(fd, b + n, cap - n);
    if (k < 0) {
      if (errno == EINTR) continue;
      goto fail;
    }
    if (!k) break;
    n += (size_t)k;
    if (n > CTL_LIST_MAX) { errno = EFBIG; goto fail; }
  }
  close(fd);
  r = ctl_parse_list(b ? b : "", n, l);
  {
    int e = errno;
    free(b);
    errno = e;
  }
  return r;
fail:
  {
    int e = errno;
    close(fd);
    free(b);
    errno = e;
  }
  return -1;
}

void ctl_listfree(struct ctl_list *l)
{
  free(l->s);
  list_zero(l);
}

const char *ctl_listnext(const struct ctl_list *l, size_t *pos)
{
  const char *e;
  if (!l->s || *pos >= l->len) return 0;
  e = l->s + *pos;
  *pos += strlen(e) + 1;
  return e;
}

int ctl_readulong(const char *path, unsigned long *v, unsigned long def)
{
  char buf[CTL_LINE_MAX];
  size_t len;
  unsigned long u = 0;
  int r = ctl_readline(path, buf, sizeof buf, &len);
  *v = def;
  if (r == 0) return 0;
  if (r < 0) {
    if (errno == EFBIG || errno == EINVAL) { errno = EINVAL; return -2; }
    return -1;
  }
  if (!len) { errno = EINVAL; return -2; }
  for (size_t i = 0; i < len; i++) {
    unsigned d;
    if (buf[i] < '0' || buf[i] > '9') { errno = EINVAL; return -2; }
    d = (unsigned)(buf[i] - '0');
    if (u > (~0UL - d) / 10) { errno = ERANGE; return -2; }
    u = u * 10 + d;
  }
  *v = u;
  return 1;
}

static int caseeq(const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
    if (x != y) return 0;
  }
  return 1;
}

int ctl_domain_match(const struct ctl_list *l, const char *d, size_t dlen)
{
  size_t pos = 0;
  const char *e;
  if (!dlen) return 0;
  while ((e = ctl_listnext(l, &pos))) {
    size_t elen = strlen(e);
    if (elen == dlen && caseeq(e, d, dlen)) return 1;
    if (e[0] == '.' && elen > 1 && dlen > elen && caseeq(d + dlen - elen, e, elen)) return 1;
  }
  return 0;
}

/* the prepend of the last virtualdomains line whose key is k[0..klen), or 0 */
static const char *vd_find(const struct ctl_list *vd, const char *k, size_t klen)
{
  size_t pos = 0;
  const char *e, *hit = 0;
  while ((e = ctl_listnext(vd, &pos))) {
    const char *colon = strchr(e, ':');
    size_t i;
    if (!colon || (size_t)(colon - e) != klen) continue;
    for (i = 0; i < klen; i++) {
      char x = e[i], y = k[i];
      if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
      if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
      if (x != y) break;
    }
    if (i == klen) hit = colon + 1;
  }
  return hit;
}

const char *ctl_vdomain(const struct ctl_list *vd, const char *a, size_t len)
{
  size_t at, dlen;
  const char *dom, *p, *pre;
  if (!vd || !vd->n) return 0;
  for (at = len; at > 0 && a[at - 1] != '@'; at--) ;
  dom = a + at;
  dlen = len - at;
  pre = vd_find(vd, a, len);
  if (!pre && dlen) pre = vd_find(vd, dom, dlen);
  for (p = dom; !pre && p < dom + dlen; p++)
    if (*p == '.') pre = vd_find(vd, p, dlen - (size_t)(p - dom));
  if (!pre) pre = vd_find(vd, "", 0);
  return pre;
}

int ctl_relay(const char *r, char *name, size_t max, unsigned long *port)
{
  const char *end, *p;
  unsigned long v = 25;
  if (!max) return 0;
  name[0] = 0;
  *port = 0;
  if (*r == '[') { end = strchr(r, ']'); if (!end) return 0; end++; }
  else end = r + strcspn(r, ":");
  if ((size_t)(end - r) > max - 1) return 0;
  if (*end == ':') {
    p = end + 1;
    if (!*p) return 0;
    for (v = 0; *p; p++) {
      if (*p < '0' || *p > '9') return 0;
      v = v * 10 + (unsigned long)(*p - '0');
      if (v > 65535) return 0;
    }
    if (!v) return 0;
  } else if (*end) return 0;
  memcpy(name, r, (size_t)(end - r));
  name[end - r] = 0;
  *port = v;
  return 1;
}

int ctl_relay_auth(const char *r, char *name, size_t max, unsigned long *port, char *auth, size_t authmax)
{
  char head[CTL_LINE_MAX];
  const char *sp = strchr(r, ' ');
  size_t hl = sp ? (size_t)(sp - r) : strlen(r), n;
  if (!authmax) return 0;
  auth[0] = 0;
  if (hl >= sizeof head) return 0;
  memcpy(head, r, hl);
  head[hl] = 0;
  if (!ctl_relay(head, name, max, port)) return 0;
  if (!sp) return 1;
  if (strncmp(sp, " auth=", 6)) return 0;
  sp += 6;
  n = strlen(sp);
  if (!n || n >= authmax || strspn(sp, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) return 0;
  memcpy(auth, sp, n + 1);
  return 1;
}
