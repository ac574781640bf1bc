/* tern-clean: remove queue files on tern-send's request (qmail-clean).
   See queue/tern-clean.8. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include "common/home.h"
#include "common/qfn.h"
#include "common/qmsg.h"

#define REQ_MAX 64          /* longest request kept, NUL included; longer = malformed */

static int unlink_ok(const char *fn)
{
  if (unlink(fn) == 0 || errno == ENOENT) return 1;
  strerr_warnwu2sys("unlink queue/", fn);
  return 0;
}

/* one request r[0..len) (without its NUL): the reply byte */
static char handle(const char *r, size_t len)
{
  char fn[QMSG_FN_MAX];
  uint64_t n;
  if (len < 5 || memcmp(r, QMSG_DIR "/", 4)) return 'x';
  if (!qfn_scanu64(r + 4, len - 4, &n)) return 'x';
  qmsg_fn(fn, "", n);
  return unlink_ok(fn) ? '+' : '!';
}

int main(void)
{
  char inbuf[4096];
  buffer in = BUFFER_INIT(&buffer_read, 0, inbuf, sizeof inbuf);
  char req[REQ_MAX];
  size_t len = 0;
  int toolong = 0;
  char home[4096 + 8];
  size_t hl;

  PROG = "tern-clean";
  sig_ignore(SIGPIPE);
  hl = strlen(home_get());
  if (hl > sizeof home - 8) strerr_dief1x(111, "home directory name too long");
  memcpy(home, home_get(), hl);
  memcpy(home + hl, "/queue", 7);
  if (chdir(home) < 0) strerr_diefu2sys(111, "chdir to ", home);

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
  }
}
