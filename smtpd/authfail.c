/* authfail: failed AUTH counters in files. See authfail.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "smtpd/authfail.h"

#define PATHMAX 4200

void authfail_name(char *name, const char *kind, const char *key)
{
  static const char hex[] = "0123456789abcdef";
  size_t kl = strlen(kind), n = strlen(key), i;
  int plain = !strcmp(kind, "ip") && n > 0 && n <= 45;
  uint64_t h = 14695981039346656037ULL;
  memcpy(name, kind, kl);
  name[kl++] = '-';
  for (i = 0; plain && i < n; i++) {
    char c = key[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':'))
      plain = 0;
  }
  if (plain) { memcpy(name + kl, key, n + 1); return; }
  for (i = 0; i < n; i++) { h ^= (unsigned char)key[i]; h *= 1099511628211ULL; }
  for (i = 0; i < 16; i++) name[kl + i] = hex[(h >> (60 - 4 * i)) & 15];
  name[kl + 16] = 0;
}

static int keypath(char *p, const char *dir, const char *kind, const char *key)
{
  char name[AUTHFAIL_NAME];
  size_t dl = strlen(dir);
  authfail_name(name, kind, key);
  if (dl + strlen(name) + 2 > PATHMAX) return 0;
  memcpy(p, dir, dl);
  p[dl] = '/';
  strcpy(p + dl + 1, name);
  return 1;
}

/* seconds since t; 0 for a time a little ahead of now (file times and
   time(0) come from clocks that may differ by a tick) */
static unsigned long age(time_t t, time_t now)
{
  return now > t ? (unsigned long)(now - t) : 0;
}

/* read (and with add +1 or -1, change by one, never below 0) the count
   of a key, under an exclusive lock when it changes */
static unsigned long count(const char *dir, const char *kind, const char *key,
                           unsigned long window, int add)
{
  char p[PATHMAX], buf[24];
  unsigned long v = 0;
  struct stat st;
  ssize_t r;
  int fd;
  if (!keypath(p, dir, kind, key)) return 0;
  fd = open(p, (add ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  if (add) flock(fd, LOCK_EX);
  if (fstat(fd, &st) == 0 && age(st.st_mtime, time(0)) <= window) {
    r = read(fd, buf, sizeof buf - 1);
    for (ssize_t i = 0; i < r && buf[i] >= '0' && buf[i] <= '9' && v < 100000000UL; i++)
      v = v * 10 + (unsigned long)(buf[i] - '0');
  }
  if (add) {
    char t[24];
    size_t n = 0;
    unsigned long x = add > 0 ? ++v : v ? --v : 0;
    do t[sizeof t - 1 - n++] = (char)('0' + x % 10); while (x /= 10);
    memcpy(buf, t + sizeof t - n, n);
    buf[n++] = '\n';
    if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, buf, n, 0);
  }
  close(fd);
  return v;
}

void authfail_get(const char *dir, const char *ip, const char *user,
                  unsigned long window, struct authfail *f)
{
  f->ip = count(dir, "ip", ip, window, 0);
  f->user = user ? count(dir, "user", user, window, 0) : 0;
}

/* remove the files whose last failure is older than window */
static void prune(const char *dir, unsigned long window)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  time_t now = time(0);
  if (!d) return;
  while ((e = readdir(d))) {
    struct stat st;
    if (strncmp(e->d_name, "ip-", 3) && strncmp(e->d_name, "user-", 5)) continue;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
        && age(st.st_mtime, now) > window)
      unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
}

void authfail_add(const char *dir, const char *ip, const char *user,
                  unsigned long window, struct authfail *f)
{
  f->ip = count(dir, "ip", ip, window, 1);
  f->user = user ? count(dir, "user", user, window, 1) : 0;
  if ((((unsigned long)time(0) ^ (unsigned long)getpid()) & 31) == 0) prune(dir, window);
}

void authfail_undo(const char *dir, const char *ip, const char *user, unsigned long window)
{
  (void)count(dir, "ip", ip, window, -1);
  if (user) (void)count(dir, "user", user, window, -1);
}

void authfail_clear(const char *dir, const char *user)
{
  char p[PATHMAX];
  if (keypath(p, dir, "user", user)) unlink(p);
}

unsigned long authfail_delay(const struct authfail *f, unsigned long cap)
{
  unsigned long m = f->ip > f->user ? f->ip : f->user;
  if (m <= 3) return 0;
  return m - 3 > cap ? cap : m - 3;
}
