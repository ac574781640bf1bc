/* tern-send's queue file helpers and its tern-clean client (files.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>

#include "common/qfn.h"
#include "common/qmsg.h"
#include "send/slog.h"
#include "send/files.h"

const char *const chname[2] = { "local", "remote" };

int fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;
  if (fd < 0) return -1;
  r = fsync(fd);
  close(fd);
  return r;
}

int readfile(const char *fn, size_t max, char **buf, size_t *len, struct stat *st)
{
  int fd = open(fn, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat s;
  size_t n = 0;
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  if (fstat(fd, &s) < 0 || !S_ISREG(s.st_mode) || (uint64_t)s.st_size > max) {
    if (!errno) errno = EFBIG;
    close(fd);
    return -1;
  }
  *buf = xrealloc(0, (size_t)s.st_size + 1);
  while (n < (size_t)s.st_size) {
    ssize_t r = read(fd, *buf + n, (size_t)s.st_size - n);
    if (r < 0) { if (errno == EINTR) continue; free(*buf); close(fd); return -1; }
    if (!r) break;
    n += (size_t)r;
  }
  close(fd);
  (*buf)[n] = 0;
  *len = n;
  if (st) *st = s;
  return 1;
}

int clean(const char *what, uint64_t id)
{
  char req[QFN_MAX];
  char c;
  size_t l = qfn_flat(req, what, id);
  ssize_t r;
  if (allwrite(FD_CCMD, req, l + 1) < l + 1) { log1("alert: oh no! lost tern-clean connection! dying..."); die_exit(111); }
  do r = read(FD_CRES, &c, 1); while (r < 0 && errno == EINTR);
  if (r <= 0) { log1("alert: oh no! lost tern-clean connection! dying..."); die_exit(111); }
  if (c != '+') {
    log3("warning: tern-clean unable to clean up ", req, "");
    return 0;
  }
  return 1;
}

int open_mess(uint64_t id, uint64_t *mlen)
{
  return qmsg_open("", id, 1, mlen);
}

void remove_own(uint64_t id)
{
  char fn[QFN_MAX + 16];
  qfn_flat(fn, "bounce", id);
  strcat(fn, ".delayed");
  unlink(fn);
  qfn_flat(fn, "bounce", id);
  if (unlink(fn) < 0 && errno != ENOENT) log3("warning: unable to unlink ", fn, "; the start-up scan removes it");
}
