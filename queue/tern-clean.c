/* tern-clean: remove queue files on tern-send's request (qmail-clean).
   See queue/tern-clean.8. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include "common/home.h"
#include "common/qfn.h"

#define OSSIFIED 129600     /* 36 hours: older pid files are leftovers */
#define SWEEP_EVERY 30      /* requests between two sweeps of pid/ */
#define REQ_MAX 64          /* longest request kept, NUL included; longer = malformed */
#define SWEEP_MAX 100000    /* entries looked at per sweep */

static void sweep_pid(void)
{
  DIR *d = opendir("pid");
  struct dirent *de;
  time_t now = time(0);
  unsigned long n = 0;
  if (!d) { strerr_warnwu1sys("opendir queue/pid"); return; }
  for (;;) {
    char fn[300];
    struct stat st;
    size_t l;
    errno = 0;
    de = readdir(d);
    if (!de) { if (errno) strerr_warnwu1sys("readdir queue/pid"); break; }
    if (++n > SWEEP_MAX) break;
    if (de->d_name[0] == '.') continue;
    l = strlen(de->d_name);
    if (l > sizeof fn - 5) continue;
    memcpy(fn, "pid/", 4); memcpy(fn + 4, de->d_name, l + 1);
    if (lstat(fn, &st) < 0) continue;
    if (!S_ISREG(st.st_mode)) continue;
    if (now - st.st_atime > OSSIFIED && now - st.st_mtime > OSSIFIED)
      if (unlink(fn) < 0 && errno != ENOENT) strerr_warnwu2sys("unlink queue/", fn);
  }
  closedir(d);
}

static int unlink_ok(const char *fn)
{
  if (unlink(fn) == 0 || errno == ENOENT) return 1;
  strerr_warnwu2sys("unlink queue/", fn);
  return 0;
}

/* one request r[0..len) (without its NUL): the reply byte */
static char handle(const char *r, size_t len)
{
  char fn[QFN_MAX];
  uint64_t n;
  int todo;
  if (len < 6) return 'x';
  if (!memcmp(r, "todo/", 5)) todo = 1;
  else if (!memcmp(r, "mess/", 5)) todo = 0;
  else return 'x';
  if (!qfn_scanu64(r + 5, len - 5, &n)) return 'x';
  /* mess/N: todo/N first (tern-send's record that N is queued), then intd/N,
     then the message: an interruption leaves a queued message or an orphan
     mess file, never a todo/N without its message */
  if (!todo) {
    qfn_flat(fn, "todo", n);
    if (!unlink_ok(fn)) return '!';
  }
  qfn_flat(fn, "intd", n);
  if (!unlink_ok(fn)) return '!';
  if (todo) qfn_flat(fn, "todo", n);
  else qfn_split(fn, "mess", n);
  if (!unlink_ok(fn)) return '!';
  return '+';
}

int main(void)
{
  char inbuf[4096];
  buffer in = BUFFER_INIT(&buffer_read, 0, inbuf, sizeof inbuf);
  char req[REQ_MAX];
  size_t len = 0;
  int toolong = 0;
  unsigned count = 0;
  char home[4096 + 8];
  size_t hl;

  PROG = "tern-clean";
  sig_ignore(SIGPIPE);
  hl = strlen(home_get());
  if (hl > sizeof home - 8) strerr_dief1x(111, "home directory name too long");
  memcpy(home, home_get(), hl);
  memcpy(home + hl, "/queue", 7);
  if (chdir(home) < 0) strerr_diefu2sys(111, "chdir to ", home);

  sweep_pid();
  for (;;) {
    char c;
    ssize_t r = buffer_get(&in, &c, 1);
    if (r < 0) strerr_diefu1sys(111, "read requests");
    if (r == 0) {
      if (len || toolong) strerr_warnw1x("request cut short by end of input");
      return 0;
    }
    if (c) {
      if (len < sizeof req) req[len++] = c; else toolong = 1;
      continue;
    }
    {
      char reply = toolong ? 'x' : handle(req, len);
      if (reply == 'x') strerr_warnw1x("malformed request");
      if (allwrite(1, &reply, 1) != 1) strerr_diefu1sys(111, "write reply");
    }
    len = 0; toolong = 0;
    if (++count >= SWEEP_EVERY) { count = 0; sweep_pid(); }
  }
}
