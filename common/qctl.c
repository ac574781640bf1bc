/* qctl: the queue command protocol (common/qctl.h). */
#include <string.h>
#include <strings.h>
#include "common/qctl.h"

static const struct { const char *name; int cmd; unsigned targets; } cmds[] = {
  { "list", QCTL_LIST, 1u << QCTL_NONE },
  { "show", QCTL_SHOW, 1u << QCTL_ID },
  { "delete", QCTL_DELETE, 1u << QCTL_ID | 1u << QCTL_DOMAIN | 1u << QCTL_ALL },
  { "hold", QCTL_HOLD, 1u << QCTL_ID },
  { "release", QCTL_RELEASE, 1u << QCTL_ID },
  { "retry", QCTL_RETRY, 1u << QCTL_ID | 1u << QCTL_DOMAIN | 1u << QCTL_ALL },
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static int domain_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
      || c == '.' || c == '-' || c == '_' || c == '[' || c == ']' || c == ':';
}

/* the target of argument a[0..n) into r; 1 ok, 0 malformed */
static int target(const char *a, size_t n, struct qctl_req *r)
{
  if (n == 3 && !memcmp(a, "all", 3)) { r->target = QCTL_ALL; r->arg[0] = 0; return 1; }
  if (n && a[0] == '@') {
    if (n < 2 || n - 1 > QCTL_DOMAIN_MAX) return 0;
    for (size_t i = 1; i < n; i++) if (!domain_char(a[i])) return 0;
    r->target = QCTL_DOMAIN;
    memcpy(r->arg, a + 1, n - 1);
    r->arg[n - 1] = 0;
    return 1;
  }
  if (!qid_ok(a, n)) return 0;
  r->target = QCTL_ID;
  memcpy(r->arg, a, n);
  r->arg[n] = 0;
  return 1;
}

int qctl_parse(const char *s, size_t len, struct qctl_req *r, size_t *used)
{
  const char *lf = memchr(s, '\n', len < QCTL_LINE_MAX ? len : QCTL_LINE_MAX);
  const char *sp;
  size_t n, w;
  if (!lf) return len < QCTL_LINE_MAX ? 0 : -1;
  n = (size_t)(lf - s);
  sp = memchr(s, ' ', n);
  w = sp ? (size_t)(sp - s) : n;
  memset(r, 0, sizeof *r);
  for (size_t k = 0; k < NCMDS; k++) {
    if (strlen(cmds[k].name) != w || memcmp(cmds[k].name, s, w)) continue;
    r->cmd = cmds[k].cmd;
    if (!sp) r->target = QCTL_NONE;
    else if (!target(sp + 1, n - w - 1, r)) return -1;
    if (!(cmds[k].targets & 1u << r->target)) return -1;
    *used = n + 1;
    return 1;
  }
  return -1;
}

size_t qctl_fmt(char *dst, const struct qctl_req *r)
{
  struct qctl_req chk;
  size_t n = 0, used;
  for (size_t k = 0; k < NCMDS; k++)
    if (cmds[k].cmd == r->cmd) { n = strlen(cmds[k].name); memcpy(dst, cmds[k].name, n); }
  if (!n) return 0;
  if (r->target != QCTL_NONE) {
    size_t a = strnlen(r->arg, sizeof r->arg);
    if (a == sizeof r->arg) return 0;
    dst[n++] = ' ';
    if (r->target == QCTL_ALL) { memcpy(dst + n, "all", 3); n += 3; }
    else {
      if (r->target == QCTL_DOMAIN) dst[n++] = '@';
      memcpy(dst + n, r->arg, a);
      n += a;
    }
  }
  dst[n++] = '\n';
  return qctl_parse(dst, n, &chk, &used) == 1 && used == n ? n : 0;
}

int qctl_domain_is(const char *a, size_t len, const char *d)
{
  const char *at = 0;
  size_t dl = strlen(d), k;
  for (k = len; k > 0; k--) if (a[k - 1] == '@') { at = a + k; break; }
  if (!at || (size_t)(a + len - at) != dl) return 0;
  return !strncasecmp(at, d, dl);   /* tern never sets a locale: ASCII case only */
}

size_t qctl_age(char *dst, uint64_t secs)
{
  static const struct { uint64_t s; char u; } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
  char t[24];
  size_t k = 0, n = 0;
  uint64_t v = secs;
  char u = 's';
  for (size_t i = 0; i < 4; i++) if (secs >= units[i].s) { v = secs / units[i].s; u = units[i].u; break; }
  do { t[k++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (k) dst[n++] = t[--k];
  dst[n++] = u;
  dst[n] = 0;
  return n;
}
