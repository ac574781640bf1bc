/* send/remote-mtasts.c: the MTA-STS cache as tern-remote reads it, and
   tern-mtasts run when it is stale (remote-mtasts.h). */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "send/remote-mtasts.h"

static void note(struct rmts *m, const char *a, int warn)
{
  size_t n = strlen(a);
  if (n > MTASTS_NOTE_MAX) n = MTASTS_NOTE_MAX;
  memcpy(m->note, a, n);
  m->note[n] = 0;
  m->warn = warn;
}

/* the entry into *c: 1 read, 0 none, -1 unreadable or malformed */
static int load(const char *domain, struct mtasts_cache *c)
{
  static char buf[MTASTS_CACHE_MAX + 1];
  char fn[ADDR_DOMAIN_MAX + 32] = MTASTS_DIR "/";
  size_t n = 0;
  int fd;
  strcat(fn, domain);
  fd = open(fn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) return errno == ENOENT ? 0 : -1;
  while (n < sizeof buf) {
    ssize_t r = read(fd, buf + n, sizeof buf - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { close(fd); return -1; }
    if (!r) break;
    n += (size_t)r;
  }
  close(fd);
  return mtasts_cache_parse(buf, n, c) < 0 ? -1 : 1;
}

/* run tern-mtasts -t secs domain, stdout and stderr into a pipe we only
   wait on; killed when it has not ended within secs + 5 seconds */
static void fetch(const char *domain, unsigned long secs)
{
  char t[24], buf[512];
  int p[2], st;
  pid_t pid;
  struct timespec dl, now;
  size_t k = sizeof t - 1;
  unsigned long v = secs;
  t[k] = 0;
  do t[--k] = (char)('0' + v % 10); while ((v /= 10) && k);
  if (pipe(p) == -1) return;
  pid = fork();
  if (pid == -1) { close(p[0]); close(p[1]); return; }
  if (!pid) {
    int nul = open("/dev/null", O_RDONLY);
    if (nul == -1 || dup2(nul, 0) == -1 || dup2(p[1], 1) == -1 || dup2(p[1], 2) == -1) _exit(111);
    execl(RMTS_BIN, "tern-mtasts", "-t", t + k, domain, (char *)0);
    _exit(111);
  }
  close(p[1]);
  clock_gettime(CLOCK_MONOTONIC, &dl);
  dl.tv_sec += (time_t)secs + 5;
  for (;;) {
    struct pollfd f = { p[0], POLLIN, 0 };
    long ms;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long)(dl.tv_sec - now.tv_sec) * 1000 + (dl.tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0) { kill(pid, SIGKILL); break; }
    if (poll(&f, 1, (int)(ms > 60000 ? 60000 : ms)) < 0 && errno != EINTR) { kill(pid, SIGKILL); break; }
    if (f.revents && read(p[0], buf, sizeof buf) <= 0) break;   /* EOF: it has ended */
  }
  close(p[0]);
  while (waitpid(pid, &st, 0) == -1 && errno == EINTR) ;
}

void rmts_get(const char *domain, unsigned long secs, struct rmts *m)
{
  static struct mtasts_cache c;
  unsigned long long now = (unsigned long long)time(0);
  int r;
  memset(m, 0, sizeof *m);
  if (!mtasts_domain_ok(domain)) { note(m, "the domain's name is not one tern keeps a policy for", 1); return; }
  r = load(domain, &c);
  if (r != 1 || c.checked + RMTS_RECHECK < now || c.checked > now + 300 || (c.havepolicy && c.expires <= now)) {
    fetch(domain, secs);
    now = (unsigned long long)time(0);
    r = load(domain, &c);
  }
  if (r == 0) { note(m, "tern-mtasts left no cache entry (see its man page)", 1); return; }
  if (r < 0) { note(m, "the cache entry is unreadable or malformed", 1); return; }
  note(m, c.note, strcmp(c.note, MTASTS_NOTE_NOREC) != 0);
  if (!c.havepolicy) return;
  if (c.expires <= now) { note(m, "the cached policy has expired", 1); return; }
  m->warn = 0;
  m->mode = c.pol.mode;
  m->pol = c.pol;
}
