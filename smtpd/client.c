/* client: whether the client data in the environment can be believed.
   See client.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "smtpd/client.h"

int client_passwd_line(const char *line, size_t len, const char *name, unsigned long *uid)
{
  size_t nl = strlen(name), i, f;
  unsigned long x = 0;
  if (!nl || len <= nl || memcmp(line, name, nl) || line[nl] != ':') return 0;
  i = nl + 1;
  while (i < len && line[i] != ':') i++;       /* the password field */
  if (i == len) return 0;
  f = ++i;
  while (i < len && line[i] >= '0' && line[i] <= '9') {
    x = x * 10 + (unsigned long)(line[i] - '0');
    if (x > 0xffffffffUL) return 0;
    i++;
  }
  if (i == f || i == len || line[i] != ':') return 0;
  *uid = x;
  return 1;
}

int client_passwd_uid(const char *path, const char *name, unsigned long *uid)
{
  char buf[4096];
  size_t n = 0;
  int skip = 0, fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
  if (fd < 0) return -1;
  for (;;) {
    char *lf;
    ssize_t r = read(fd, buf + n, sizeof buf - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { int e = errno; close(fd); errno = e; return -1; }
    n += (size_t)r;
    while ((lf = memchr(buf, '\n', n)) || (r == 0 && n)) {
      size_t l = lf ? (size_t)(lf - buf) : n;
      if (!skip && client_passwd_line(buf, l, name, uid)) found = 1;
      skip = 0;
      n -= lf ? l + 1 : l;
      memmove(buf, buf + (lf ? l + 1 : l), n);
      if (found) break;
    }
    if (found || r == 0) break;
    if (n == sizeof buf) { n = 0; skip = 1; }   /* a line too long: drop it */
  }
  close(fd);
  return found;
}

int client_verified(void)
{
  unsigned long u;
  return client_passwd_uid(CLIENT_PASSWD, CLIENT_USER, &u) == 1 && (unsigned long)getuid() == u;
}
