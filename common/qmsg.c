/* qmsg: the queue file (common/qmsg.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/qfn.h"
#include "common/qmsg.h"

static const char magic[8] = { 'T', 'E', 'R', 'N', 'Q', '0', '1', '\n' };

size_t qmsg_fn(char *dst, const char *prefix, uint64_t n)
{
  size_t l = strlen(prefix);
  memcpy(dst, prefix, l);
  memcpy(dst + l, QMSG_DIR "/", sizeof QMSG_DIR);
  l += sizeof QMSG_DIR;
  l += qfn_fmtu64(dst + l, n);
  dst[l] = 0;
  return l;
}

uint64_t qmsg_offset(uint64_t elen)
{
  uint64_t need = QMSG_HEAD + elen;
  if (need <= QMSG_RESERVE) return QMSG_RESERVE;
  return (need + 4095) / 4096 * 4096;
}

static void hex16(char *d, uint64_t v)
{
  for (int i = 15; i >= 0; i--) { d[i] = "0123456789abcdef"[v & 15]; v >>= 4; }
}

static int unhex16(const char *s, uint64_t *v)
{
  uint64_t r = 0;
  for (int i = 0; i < 16; i++) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
    else return 0;
    r = r << 4 | d;
  }
  *v = r;
  return 1;
}

void qmsg_head(char *dst, uint64_t moff, uint64_t elen)
{
  memcpy(dst, magic, 8);
  hex16(dst + 8, moff);
  hex16(dst + 24, elen);
}

int qmsg_headparse(const char *h, uint64_t size, uint64_t *moff, uint64_t *elen)
{
  uint64_t m, e;
  if (memcmp(h, magic, 8) || !unhex16(h + 8, &m) || !unhex16(h + 24, &e)) return 0;
  if (e > UINT64_MAX - QMSG_HEAD || QMSG_HEAD + e > m || m > size) return 0;
  *moff = m;
  *elen = e;
  return 1;
}

/* the head of fd: 1 ok, 0 not a queue file, -1 error */
static int readhead(int fd, uint64_t *moff, uint64_t *elen, uint64_t *size)
{
  char h[QMSG_HEAD];
  struct stat st;
  size_t n = 0;
  if (fstat(fd, &st) < 0) return -1;
  if (!S_ISREG(st.st_mode)) { errno = EPROTO; return 0; }
  while (n < QMSG_HEAD) {
    ssize_t r = pread(fd, h + n, QMSG_HEAD - n, (off_t)n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (!r) { errno = EPROTO; return 0; }
    n += (size_t)r;
  }
  *size = (uint64_t)st.st_size;
  if (!qmsg_headparse(h, *size, moff, elen)) { errno = EPROTO; return 0; }
  return 1;
}

int qmsg_open(const char *prefix, uint64_t n, int nonblock, uint64_t *mlen)
{
  char fn[4096];
  uint64_t moff, elen, size;
  int fd, r, e;
  if (strlen(prefix) > sizeof fn - QMSG_FN_MAX) { errno = ENAMETOOLONG; return -1; }
  qmsg_fn(fn, prefix, n);
  fd = open(fn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
  if (fd < 0) return -1;
  r = readhead(fd, &moff, &elen, &size);
  if (r <= 0 || lseek(fd, (off_t)moff, SEEK_SET) < 0) { e = r ? errno : EPROTO; close(fd); errno = e; return -1; }
  *mlen = size - moff;
  return fd;
}

int qmsg_readenv(int fd, char **env, size_t *elen, uint64_t *moff, uint64_t *size)
{
  uint64_t e;
  size_t n = 0;
  char *b;
  int r = readhead(fd, moff, &e, size);
  if (r <= 0) return r;
  if (e > (uint64_t)SIZE_MAX - 1) { errno = ENOMEM; return -1; }
  b = malloc((size_t)e + 1);
  if (!b) return -1;
  while (n < e) {
    ssize_t k = pread(fd, b + n, (size_t)e - n, (off_t)(QMSG_HEAD + n));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) { int er = k ? errno : EPROTO; free(b); errno = er; return k ? -1 : 0; }
    n += (size_t)k;
  }
  b[n] = 0;
  *env = b;
  *elen = n;
  return 1;
}
