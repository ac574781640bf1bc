/* spawn: the spawner loop of tern-lspawn and tern-rspawn (see spawn.h):
   requests in on fd 0, one child per slot, each child's output collected
   from its pipe, SIGCHLD through the self-pipe, replies out on fd 1. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>

#include "send/spawn.h"

struct slot {
  pid_t pid;            /* 0: free */
  int reaped, wstat;
  int fd;               /* read end of the child's output, -1 at end of file */
  char *out;            /* outmax bytes */
  size_t len;
  int overflow;
};

static struct slot slots[SPAWN_SLOTS];
static const struct spawn_plug *plug;
static char req[SPAWNREQ_MAX];
static size_t reqlen;
/* passfd: the descriptors received and not yet paired with a request, in
   the order they came (one per request, sent with its first byte) */
#define FDQ_MAX 256
static int fdq[FDQ_MAX];
static unsigned fdqhead, fdqlen;

void spawn_reply(unsigned char slot, const char *body, size_t len)
{
  if (allwrite(1, (const char *)&slot, 1) != 1 || allwrite(1, body, len) != len)
    strerr_diefu1sys(111, "write to tern-send");
}

pid_t spawn_fork(int in, int *fd)
{
  int p[2];
  pid_t pid;
  if (pipecoe(p) == -1) return -1;
  pid = fork();
  if (pid == -1) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    errno = e;
    return -2;
  }
  if (!pid) {
    sigset_t none;
    int fl;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);   /* the self-pipe blocks SIGCHLD */
    sig_restore(SIGPIPE);
    sig_restore(SIGCHLD);
    if (dup2(in, 0) == -1 || dup2(p[1], 1) == -1 || dup2(p[1], 2) == -1) _exit(111);
    fl = fcntl(0, F_GETFL);
    if (fl == -1 || fcntl(0, F_SETFL, fl & ~O_NONBLOCK) == -1) _exit(111);
    return 0;
  }
  close(p[1]);
  ndelay_on(p[0]);
  *fd = p[0];
  return pid;
}

/* the next received descriptor, for a request just framed (passfd) */
static int fdq_pop(void)
{
  int fd;
  if (!fdqlen) strerr_dief1x(111, "protocol error from tern-send: a request without its descriptor");
  fd = fdq[fdqhead];
  fdqhead = (fdqhead + 1) % FDQ_MAX;
  fdqlen--;
  return fd;
}

void spawn_nexec(void)
{
  struct rlimit rl;
  memset(req, 0, reqlen);      /* readreq zeroes what it consumed */
  reqlen = 0;
  for (unsigned i = 0; i < SPAWN_SLOTS; i++) {
    if (slots[i].out) memset(slots[i].out, 0, slots[i].len);
    slots[i].len = 0;
  }
  fdqlen = 0;
#ifdef SYS_close_range
  if (!syscall(SYS_close_range, 3u, ~0u, 0u)) return;
#endif
  if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > 65536) rl.rlim_cur = 65536;
  for (int fd = 3; fd < (int)rl.rlim_cur; fd++) close(fd);
}

/* one framed request: refused, answered at once, or a child started */
static void request(const struct spawnreq *r)
{
  struct slot *s;
  pid_t pid;
  int fd = -1, msg = plug->passfd ? fdq_pop() : -1;
  if (r->slot >= SPAWN_SLOTS) {
    strerr_warnw1x("request for a slot out of range");
    plug->refuse(r, 0);
    if (msg >= 0) close(msg);
    return;
  }
  s = slots + r->slot;
  if (s->pid) {
    strerr_warnw1x("request for a busy slot");
    plug->refuse(r, 1);
    if (msg >= 0) close(msg);
    return;
  }
  pid = plug->start(r, msg, &fd);
  if (msg >= 0) close(msg);
  if (!pid) return;
  s->pid = pid;
  s->fd = fd;
  s->reaped = 0;
  s->wstat = 0;
  s->len = 0;
  s->overflow = 0;
}

/* passfd: recvmsg on fd 0 into buf; each descriptor that came with the
   bytes goes to the end of fdq. As read(2). */
static ssize_t recvfds(char *buf, size_t len)
{
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int) * 4)]; } cb;
  struct iovec v = { buf, len };
  struct msghdr mh;
  struct cmsghdr *c;
  ssize_t r;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &v;
  mh.msg_iovlen = 1;
  mh.msg_control = cb.b;
  mh.msg_controllen = sizeof cb.b;
  r = recvmsg(0, &mh, MSG_CMSG_CLOEXEC);
  if (r <= 0) return r;
  for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    size_t n;
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (fdqlen == FDQ_MAX) strerr_dief1x(111, "protocol error from tern-send: too many descriptors ahead of their requests");
      fdq[(fdqhead + fdqlen++) % FDQ_MAX] = fd;
    }
  }
  if (mh.msg_flags & MSG_CTRUNC) strerr_dief1x(111, "descriptors from tern-send were dropped (MSG_CTRUNC)");
  return r;
}

/* read what tern-send wrote and act on every whole request; 0 at end of file */
static int readreq(void)
{
  size_t pos = 0;
  ssize_t r = plug->passfd ? recvfds(req + reqlen, sizeof req - reqlen) : read(0, req + reqlen, sizeof req - reqlen);
  if (r == -1) {
    if (errno == EINTR || errno == EAGAIN) return 1;
    strerr_diefu1sys(111, "read requests from tern-send");
  }
  if (!r) {
    if (reqlen) strerr_warnw1x("tern-send closed the request pipe in the middle of a request");
    return 0;
  }
  reqlen += (size_t)r;
  for (;;) {
    struct spawnreq q;
    size_t used;
    int e = spawnreq_frame(req + pos, reqlen - pos, &q, &used);
    if (e == SPAWNREQ_MORE) break;
    if (e < 0) strerr_dief2x(111, "protocol error from tern-send: ", spawnreq_error(e));
    request(&q);
    pos += used;
  }
  memmove(req, req + pos, reqlen - pos);
  reqlen -= pos;
  memset(req + reqlen, 0, pos);   /* no old request stays behind for spawn_nexec's children */
  return 1;
}

/* read a child's output; past outmax bytes only note the overflow */
static void collect(struct slot *s)
{
  char buf[4096];
  for (;;) {
    ssize_t r = read(s->fd, buf, sizeof buf);
    size_t n;
    if (r == -1) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      r = 0;
    }
    if (!r) {
      close(s->fd);
      s->fd = -1;
      return;
    }
    n = (size_t)r;
    if (n > plug->outmax - s->len) { n = plug->outmax - s->len; s->overflow = 1; }
    memcpy(s->out + s->len, buf, n);
    s->len += n;
  }
}

static void reap(void)
{
  int w;
  pid_t pid;
  while ((pid = waitpid(-1, &w, WNOHANG)) > 0)
    for (unsigned i = 0; i < SPAWN_SLOTS; i++)
      if (slots[i].pid == pid && !slots[i].reaped) {
        slots[i].reaped = 1;
        slots[i].wstat = w;
        break;
      }
}

int spawn_main(const struct spawn_plug *p)
{
  unsigned char conc = SPAWN_SLOTS;
  int sfd, eof = 0;
  char *outs;
  plug = p;
  outs = malloc(SPAWN_SLOTS * p->outmax);
  if (!outs) strerr_diefu1sys(111, "allocate the output buffers");
  for (unsigned i = 0; i < SPAWN_SLOTS; i++) {
    slots[i].fd = -1;
    slots[i].out = outs + i * p->outmax;
  }
  sig_ignore(SIGPIPE);
  sfd = selfpipe_init();
  if (sfd == -1 || !selfpipe_trap(SIGCHLD)) strerr_diefu1sys(111, "set up the self-pipe");
  if (allwrite(1, (const char *)&conc, 1) != 1) strerr_diefu1sys(111, "write to tern-send");

  for (;;) {
    struct pollfd pf[2 + SPAWN_SLOTS];
    struct slot *who[2 + SPAWN_SLOTS];
    unsigned np = 0, busy = 0;
    pf[np].fd = sfd; pf[np].events = POLLIN; who[np++] = 0;
    if (!eof) { pf[np].fd = 0; pf[np].events = POLLIN; who[np++] = 0; }
    for (unsigned i = 0; i < SPAWN_SLOTS; i++) {
      if (!slots[i].pid) continue;
      busy++;
      if (slots[i].fd >= 0) { pf[np].fd = slots[i].fd; pf[np].events = POLLIN; who[np++] = slots + i; }
    }
    if (eof && !busy) return 0;
    if (poll(pf, np, -1) == -1) {
      if (errno == EINTR) continue;
      strerr_diefu1sys(111, "poll");
    }
    for (unsigned k = 0; k < np; k++) if (who[k] && pf[k].revents) collect(who[k]);
    if (pf[0].revents) {
      while (selfpipe_read() > 0) ;
      reap();
    }
    if (!eof && pf[1].revents && !readreq()) eof = 1;
    for (unsigned i = 0; i < SPAWN_SLOTS; i++) {
      struct slot *s = slots + i;
      if (!s->pid || !s->reaped || s->fd >= 0) continue;
      s->pid = 0;
      plug->done((unsigned char)i, s->wstat, s->out, s->len, s->overflow);
    }
  }
}
