/* send/remote-auth.c: relay credentials (remote-auth.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/base64.h"
#include "send/remote-auth.h"

/* copy s[0..n) into dst (RAUTH_FIELD_MAX + 1 bytes): 1..RAUTH_FIELD_MAX
   bytes, no control byte but TAB; 0 or -1 */
static int field(char *dst, const char *s, size_t n)
{
  if (!n || n > RAUTH_FIELD_MAX) return -1;
  for (size_t k = 0; k < n; k++)
    if (((unsigned char)s[k] < 0x20 && s[k] != '\t') || s[k] == 0x7f) return -1;
  memcpy(dst, s, n);
  dst[n] = 0;
  return 0;
}

int rauth_find(const char *buf, size_t len, const char *name, struct rauth *a)
{
  size_t pos = 0, nl = strlen(name);
  memset(a, 0, sizeof *a);
  while (pos < len) {
    const char *l = buf + pos, *e = memchr(l, '\n', len - pos), *c1, *c2;
    size_t n = e ? (size_t)(e - l) : len - pos;
    pos += n + 1;
    if (n && l[n - 1] == '\r') n--;
    if (!n || l[0] == '#') continue;
    if (n <= nl || memcmp(l, name, nl) || l[nl] != ':') continue;
    c1 = l + nl;
    c2 = memchr(c1 + 1, ':', n - nl - 1);
    if (!c2 || field(a->user, c1 + 1, (size_t)(c2 - c1 - 1)) < 0
        || field(a->pass, c2 + 1, (size_t)(l + n - c2 - 1)) < 0) {
      rauth_wipe(a);
      return -1;
    }
    return 1;
  }
  return 0;
}

int rauth_load(const char *name, struct rauth *a)
{
  static char buf[RAUTH_FILE_MAX];
  size_t len = 0;
  struct stat st;
  int fd = open(RAUTH_PATH, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r;
  memset(a, 0, sizeof *a);
  if (fd < 0) return -2;
  if (fstat(fd, &st) < 0) { close(fd); return -2; }
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) { close(fd); return -3; }
  while (len < sizeof buf) {
    ssize_t n = read(fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { close(fd); return -2; }
    if (!n) break;
    len += (size_t)n;
  }
  close(fd);
  r = rauth_find(buf, len, name, a);
  explicit_bzero(buf, len);
  return r;
}

size_t rauth_plain(const struct rauth *a, char *out)
{
  char raw[2 * RAUTH_FIELD_MAX + 2];
  size_t u = strlen(a->user), p = strlen(a->pass), n;
  raw[0] = 0;
  memcpy(raw + 1, a->user, u);
  raw[1 + u] = 0;
  memcpy(raw + 2 + u, a->pass, p);
  n = base64_encode(raw, 2 + u + p, out);
  explicit_bzero(raw, sizeof raw);
  return n;
}

void rauth_wipe(struct rauth *a)
{
  explicit_bzero(a, sizeof *a);
}
