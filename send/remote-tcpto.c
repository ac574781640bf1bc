/* TCP timeout table: see remote-tcpto.h */
#include <sys/file.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "send/remote-tcpto.h"

static uint64_t getwhen(const unsigned char *r)
{
  uint64_t w = 0;
  for (int i = 7; i >= 0; i--) w = (w << 8) | r[24 + i];
  return w;
}

static void putwhen(unsigned char *r, uint64_t w)
{
  for (int i = 0; i < 8; i++) { r[24 + i] = (unsigned char)(w & 255); w >>= 8; }
}

static unsigned char *find(const unsigned char *tab, const char ip[16])
{
  for (int i = 0; i < TCPTO_N; i++) {
    const unsigned char *r = tab + i * TCPTO_REC;
    if (r[16] && !memcmp(r, ip, 16)) return (unsigned char *)r;
  }
  return 0;
}

int tcpto_dead(const unsigned char *tab, const char ip[16], uint64_t now, unsigned long pid)
{
  const unsigned char *r = find(tab, ip);
  uint64_t when;
  if (!r || r[16] < 2) return 0;
  when = getwhen(r);
  if (when > now) return 0;      /* the clock went back: do not trust the record */
  return now - when < ((uint64_t)(60 + (pid & 31)) << 6);
}

int tcpto_update(unsigned char *tab, const char ip[16], int flagerr, uint64_t now)
{
  unsigned char *r = find(tab, ip);
  if (!flagerr) {                /* free every record of ip (a damaged table may hold several) */
    int changed = 0;
    while ((r = find(tab, ip))) { memset(r, 0, TCPTO_REC); changed = 1; }
    return changed;
  }
  if (r) {
    uint64_t when = getwhen(r);
    if (now >= when && now - when < TCPTO_GAP) return 0;
    if (r[16] < TCPTO_COUNT_MAX) r[16]++;
    putwhen(r, now);
    return 1;
  }
  {
    int best = -1;
    uint64_t bestw = 0;
    for (int i = 0; i < TCPTO_N; i++) {
      unsigned char *x = tab + i * TCPTO_REC;
      uint64_t w = x[16] ? getwhen(x) + ((uint64_t)x[16] << 10) : 0;
      if (best < 0 || w < bestw) { best = i; bestw = w; }
    }
    r = tab + best * TCPTO_REC;
    memset(r, 0, TCPTO_REC);
    memcpy(r, ip, 16);
    r[16] = 1;
    putwhen(r, now);
  }
  return 1;
}

static int lockread(int fd, unsigned char *tab)
{
  size_t got = 0;
  memset(tab, 0, TCPTO_SIZE);
  while (flock(fd, LOCK_EX) == -1) if (errno != EINTR) return -1;
  while (got < TCPTO_SIZE) {
    ssize_t r = pread(fd, tab + got, TCPTO_SIZE - got, (off_t)got);
    if (r < 0) { if (errno == EINTR) continue; flock(fd, LOCK_UN); return -1; }
    if (!r) break;
    got += (size_t)r;
  }
  return 0;
}

int tcpto_file_dead(int fd, const char ip[16], uint64_t now, unsigned long pid)
{
  unsigned char tab[TCPTO_SIZE];
  int d;
  if (fd < 0 || lockread(fd, tab) == -1) return 0;
  d = tcpto_dead(tab, ip, now, pid);
  flock(fd, LOCK_UN);
  return d;
}

void tcpto_file_update(int fd, const char ip[16], int flagerr, uint64_t now)
{
  unsigned char tab[TCPTO_SIZE];
  if (fd < 0 || lockread(fd, tab) == -1) return;
  if (tcpto_update(tab, ip, flagerr, now)) {
    size_t done = 0;
    while (done < TCPTO_SIZE) {
      ssize_t w = pwrite(fd, tab + done, TCPTO_SIZE - done, (off_t)done);
      if (w < 0) { if (errno == EINTR) continue; break; }
      done += (size_t)w;
    }
  }
  flock(fd, LOCK_UN);
}
