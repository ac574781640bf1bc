/* filters: the parser of control/filters (common/filters.h). Pure. */
#include <string.h>
#include "common/filters.h"

static const char *const names[FILTERS_NSOURCES] = {
  "smtp", "submission", "smtps", "local", "bounce", "forward"
};

int filters_source(const char *s, size_t n)
{
  for (int i = 0; i < FILTERS_NSOURCES; i++)
    if (strlen(names[i]) == n && !memcmp(names[i], s, n)) return i;
  return -1;
}

const char *filters_name(int src)
{
  return src >= 0 && src < FILTERS_NSOURCES ? names[src] : 0;
}

static int blank(char c) { return c == ' ' || c == '\t'; }

/* the words of p: their number, or -1 past FILTERS_ARGV_MAX */
static int words(const char *p)
{
  int w = 0;
  while (*p) {
    while (blank(*p)) p++;
    if (!*p) break;
    if (++w > FILTERS_ARGV_MAX) return -1;
    while (*p && !blank(*p)) p++;
  }
  return w;
}

int filters_line(const char *line, int *src, const char **prog)
{
  const char *c = strchr(line, ':'), *p;
  int s;
  if (!c) return -1;
  for (p = line; *p; p++)
    if ((unsigned char)*p < 0x20 && *p != '\t') return -1;
  s = filters_source(line, (size_t)(c - line));
  if (s < 0) return -1;
  p = c + 1;
  while (blank(*p)) p++;
  if (!*p) return -1;
  /* PROGRAM: a plain name (HOME/bin) or an absolute path */
  if (*p != '/') {
    for (const char *q = p; *q && !blank(*q); q++)
      if (*q == '/') return -1;
  }
  if (words(p) < 1) return -1;
  *src = s;
  *prog = p;
  return 0;
}

int filters_check(const char *s, size_t len, size_t n, size_t *bad)
{
  size_t count[FILTERS_NSOURCES] = { 0 }, pos = 0;
  for (size_t i = 0; i < n; i++) {
    const char *prog;
    int src;
    if (pos >= len || filters_line(s + pos, &src, &prog) < 0 || ++count[src] > FILTERS_CHAIN_MAX) {
      *bad = i;
      return -1;
    }
    pos += strlen(s + pos) + 1;
  }
  return 0;
}

const char *filters_nth(const char *s, size_t len, size_t n, int src, size_t k)
{
  size_t pos = 0;
  for (size_t i = 0; i < n && pos < len; i++) {
    const char *prog;
    int ls;
    if (filters_line(s + pos, &ls, &prog) == 0 && ls == src && !k--) return prog;
    pos += strlen(s + pos) + 1;
  }
  return 0;
}

int filters_split(const char *p, char *buf, size_t bufsize, char **argv)
{
  size_t o = 0;
  int w = 0;
  for (;;) {
    while (blank(*p)) p++;
    if (!*p) break;
    if (w == FILTERS_ARGV_MAX) return -1;
    argv[w++] = buf + o;
    while (*p && !blank(*p)) {
      if (o + 1 >= bufsize) return -1;
      buf[o++] = *p++;
    }
    if (o >= bufsize) return -1;
    buf[o++] = 0;
  }
  argv[w] = 0;
  return w;
}
