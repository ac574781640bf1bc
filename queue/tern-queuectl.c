/* tern-queuectl: the queue commands (list, show, delete, hold, release,
   retry), as Postfix's postqueue and postsuper. A plain client of
   tern-send's command socket HOME/sock/send (common/qctl.h): it holds no
   privilege, and tern-send decides what the caller may see and do from
   the uid the kernel gives it. See tern-queuectl.8. */
#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "common/home.h"
#include "common/qctl.h"

#define USAGE "tern-queuectl list | show ID | delete ID... | delete @DOMAIN | delete all | hold ID... | release ID... | retry [ ID... | @DOMAIN | all ]"
#define DEADLINE_MS 120000     /* the whole exchange */
#define REPLY_MAX (1u << 30)   /* bytes of a reply, at most */
#define BUSY_WAIT_MS 200
#define BUSY_MAX_MS 60000

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_send(void)
{
  struct sockaddr_un sa;
  const char *home = home_get();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(home) + sizeof "/sock/send" > sizeof sa.sun_path) strerr_dief1x(111, "installation path too long");
  strcpy(sa.sun_path, home);
  strcat(sa.sun_path, "/sock/send");
  if (fd < 0) strerr_diefu1sys(111, "create a socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    strerr_diefu3sys(111, "connect to ", sa.sun_path, " (is tern-send running?)");
  return fd;
}

/* the whole reply into *r; the descriptor that came with it, or -1 */
static int read_reply(int fd, stralloc *r)
{
  int64_t end = now_ms() + DEADLINE_MS;
  int got = -1;
  for (;;) {
    char buf[65536];
    union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
    struct iovec iov = { buf, sizeof buf };
    struct msghdr mh;
    struct pollfd p = { fd, POLLIN, 0 };
    int64_t left = end - now_ms();
    ssize_t n;
    if (left <= 0) strerr_dief1x(111, "timed out waiting for tern-send");
    if (poll(&p, 1, (int)left) < 0) { if (errno == EINTR) continue; strerr_diefu1sys(111, "poll"); }
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.b;
    mh.msg_controllen = sizeof u.b;
    n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      /* tern-send answered at once and closed before reading the request
         ("no: busy"): the answer came first, then the reset */
      if (errno == ECONNRESET && r->len) return got;
      strerr_diefu1sys(111, "read from tern-send");
    }
    if (mh.msg_controllen >= sizeof(struct cmsghdr)) {
      struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
      if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int))) {
        int d;
        memcpy(&d, CMSG_DATA(h), sizeof d);
        if (got < 0) got = d; else close(d);
      }
    }
    if (!n) return got;
    if (r->len + (size_t)n > REPLY_MAX) strerr_dief1x(111, "reply from tern-send too long");
    if (!stralloc_catb(r, buf, (size_t)n)) strerr_diefu1sys(111, "allocate");
  }
}

static void out(const char *s, size_t n)
{
  if (allwrite(1, s, n) < n) strerr_diefu1sys(111, "write to stdout");
}

/* one request; the exit code of its reply: 0 ok, 1 refused or failed,
   -1 busy (ask again) */
static int ask1(const struct qctl_req *q)
{
  char line[QCTL_LINE_MAX];
  size_t n = qctl_fmt(line, q), nl;
  stralloc r = STRALLOC_ZERO;
  int fd, mfd;
  const char *eol;
  if (!n) strerr_dief2x(100, "malformed argument: ", q->arg);
  fd = connect_send();
  /* tern-send may answer at once and close ("no: busy ..."): a failed
     write is then not the end, the answer is still there to read */
  signal(SIGPIPE, SIG_IGN);
  if (allwrite(fd, line, n) < n && errno != EPIPE) strerr_diefu1sys(111, "write to tern-send");
  shutdown(fd, SHUT_WR);
  mfd = read_reply(fd, &r);
  close(fd);
  eol = r.len ? memchr(r.s, '\n', r.len) : 0;
  if (!eol) strerr_dief1x(111, "tern-send closed the connection without an answer");
  nl = (size_t)(eol - r.s);
  if (nl != 2 || memcmp(r.s, "ok", 2)) {
    int busy = nl >= 5 && !memcmp(r.s, "busy:", 5);
    if (!stralloc_0(&r)) strerr_diefu1sys(111, "allocate");
    r.s[nl] = 0;
    if (!busy) strerr_warn(PROG, ": ", r.s);
    if (mfd >= 0) close(mfd);
    stralloc_free(&r);
    return busy ? -1 : 1;
  }
  out(r.s + nl + 1, r.len - nl - 1);
  if (mfd >= 0) {
    char buf[65536];
    for (;;) {
      ssize_t k = read(mfd, buf, sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) strerr_diefu1sys(111, "read the message");
      if (!k) break;
      out(buf, (size_t)k);
    }
    close(mfd);
  }
  stralloc_free(&r);
  return 0;
}

/* one request, asked again while a running delivery keeps the message
   (every BUSY_WAIT_MS, for BUSY_MAX_MS at most) */
static int ask(const struct qctl_req *q)
{
  int64_t end = now_ms() + BUSY_MAX_MS;
  for (;;) {
    int rc = ask1(q);
    if (rc >= 0) return rc;
    if (now_ms() >= end) { strerr_warnw2x(q->arg, ": a delivery of it is still running; try again later"); return 1; }
    {
      struct timespec ts = { 0, BUSY_WAIT_MS * 1000000L };
      nanosleep(&ts, 0);
    }
  }
}

/* the argument a as the target of cmd into q; 0 if it is not one */
static int target(int cmd, const char *a, struct qctl_req *q)
{
  char line[QCTL_LINE_MAX];
  size_t used;
  const char *name = cmd == QCTL_SHOW ? "show " : cmd == QCTL_DELETE ? "delete " : cmd == QCTL_HOLD ? "hold "
                   : cmd == QCTL_RELEASE ? "release " : "retry ";
  size_t k = strlen(name), al = strlen(a);
  if (k + al + 1 > sizeof line) return 0;
  memcpy(line, name, k);
  memcpy(line + k, a, al);
  line[k + al] = '\n';
  return qctl_parse(line, k + al + 1, q, &used) == 1 && used == k + al + 1;
}

int main(int argc, char const *const *argv)
{
  static const struct { const char *name; int cmd; } cmds[] = {
    { "list", QCTL_LIST }, { "show", QCTL_SHOW }, { "delete", QCTL_DELETE },
    { "hold", QCTL_HOLD }, { "release", QCTL_RELEASE }, { "retry", QCTL_RETRY },
  };
  struct qctl_req q;
  int cmd = 0, rc = 0;
  PROG = "tern-queuectl";
  if (argc < 2) strerr_dieusage(100, USAGE);
  for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) if (!strcmp(argv[1], cmds[k].name)) cmd = cmds[k].cmd;
  if (!cmd) strerr_dieusage(100, USAGE);
  memset(&q, 0, sizeof q);
  q.cmd = cmd;
  if (cmd == QCTL_LIST) {
    if (argc != 2) strerr_dieusage(100, USAGE);
    return ask(&q);
  }
  if (cmd == QCTL_RETRY && argc == 2) { q.target = QCTL_ALL; return ask(&q); }
  if (argc < 3 || (cmd == QCTL_SHOW && argc != 3)) strerr_dieusage(100, USAGE);
  for (int i = 2; i < argc; i++)
    if (!target(cmd, argv[i], &q)) strerr_dief2x(100, "not a queue id (or @DOMAIN, all) here: ", argv[i]);
  for (int i = 2; i < argc; i++) {
    target(cmd, argv[i], &q);
    if (ask(&q)) rc = 1;
  }
  return rc;
}
