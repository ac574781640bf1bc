/* tern-queued: the queue's injection server (queue/tern-queued.8).
   fd 0: the listening socket HOME/sock/queue (bound by
   s6-ipcserver-socketbinder); one process per client, forked without exec;
   the client's uid from the kernel (SO_PEERCRED); the protocol in
   common/qproto.h; the queue written by queue/qwrite.c. */
#define _GNU_SOURCE 1   /* struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "common/ctl.h"
#include "common/home.h"
#include "common/qfn.h"
#include "common/qproto.h"
#include "common/qqcode.h"
#include "queue/qwrite.h"

#define USAGE "tern-queued [ -1 ] [ -c maxclients ] [ -t idle-seconds ] [ -d notif-fd ]"
#define DEATH 86400          /* a client's whole injection, seconds */
#define CONC_DEFAULT 20      /* without control/queueusers: per uid */
#define POLICY_MAX 1000      /* lines of control/queueusers used */
#define CLIENTS_MAX 4096

const char *PROG = "tern-queued";

struct rule { uint64_t uid; int any; unsigned long conc; uint64_t bytes; };
static struct rule policy[POLICY_MAX];
static size_t npolicy;
/* fd: a waiting client's connection (pending); the parent's end of the
   commit channel (clients) */
static struct client { pid_t pid; uint64_t uid; int fd; } clients[CLIENTS_MAX], pending[CLIENTS_MAX];
static size_t nclients, npending;
static unsigned int maxclients = 200, idle = 3600;
static int sigfd[2];
static struct qwrite w;
static int commitfd = -1;   /* in a client process: its end of the commit channel */

/* ---- control/queueusers: WHO:CONCURRENCY:BYTES per line ---- */

/* 1 and *r filled, or 0 (malformed: the line is ignored and logged) */
static int rule_parse(const char *line, struct rule *r)
{
  const char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : 0;
  char who[256];
  size_t wl = c1 ? (size_t)(c1 - line) : 0;
  uint64_t v;
  if (!c2 || !wl || wl >= sizeof who) return 0;
  memcpy(who, line, wl); who[wl] = 0;
  r->any = !strcmp(who, "*");
  if (!r->any && !(uint640_scan(who, &r->uid))) {
    struct passwd *pw = getpwnam(who);
    if (!pw) return 0;
    r->uid = pw->pw_uid;
  }
  if (!qfn_scanu64(c1 + 1, (size_t)(c2 - c1 - 1), &v) || v > 100000) return 0;
  r->conc = (unsigned long)v;
  return qfn_scanu64(c2 + 1, strlen(c2 + 1), &r->bytes);
}

static void policy_load(void)
{
  char fn[4200];
  struct ctl_list l = CTL_LIST_ZERO;
  size_t pos = 0;
  const char *e;
  int r;
  strcpy(fn, home_get());
  strcat(fn, "/control/queueusers");
  r = ctl_readlist(fn, &l);
  if (r < 0) { strerr_warnwu2sys("read ", fn); return; }  /* keep the old policy */
  npolicy = 0;
  if (r == 0) {
    policy[0].any = 1; policy[0].conc = CONC_DEFAULT; policy[0].bytes = 0;
    npolicy = 1;
    return;
  }
  while ((e = ctl_listnext(&l, &pos)) && npolicy < POLICY_MAX) {
    if (rule_parse(e, &policy[npolicy])) npolicy++;
    else strerr_warnw3x("control/queueusers: ignored malformed line: ", e, "");
  }
  ctl_listfree(&l);
}

/* the rule for uid: its own line, else "*", else 0 (not allowed) */
static const struct rule *policy_for(uint64_t uid)
{
  const struct rule *any = 0;
  for (size_t i = 0; i < npolicy; i++) {
    if (!policy[i].any && policy[i].uid == uid) return &policy[i];
    if (policy[i].any && !any) any = &policy[i];
  }
  return any;
}

/* ---- one client (in its own process) ---- */

/* chdir to HOME/queue: in each client, so that a queue directory that is
   missing or replaced is an answer (62) to that client, not a dead server */
static int chdir_queue(void)
{
  char q[4200];
  if (strlen(home_get()) > 4000) return -1;
  strcpy(q, home_get());
  strcat(q, "/queue");
  return chdir(q);
}

static void answer(int fd, int code, const char *id, size_t idlen)
{
  char r[QPROTO_REPLY_MAX];
  size_t n = qproto_reply(r, code, id, idlen);
  if (send(fd, r, n, MSG_NOSIGNAL) < 0) { /* the client is gone: nothing to tell */ }
}

static void sigalrm(int sig) { (void)sig; qwrite_undo(&w); _exit(QQ_TIMEOUT); }

static void fail(int fd, int code)
{
  qwrite_undo(&w);
  answer(fd, code, 0, 0);
  _exit(code);
}

static int code_of(int e)
{
  if (e == QPROTO_ETOOLONG) return QQ_TOOLONG;
  if (e == QPROTO_EBIG) return QQ_PERM_REFUSED;
  return QQ_ENVELOPE;
}

/* msg/ durable after our link: 0, or a qmail-queue code. Group commit:
   tell the parent "L" (linked) and wait for its answer, "C" after one
   fsync of msg/ that started after every "L" it answers, "F" if that
   fsync failed. Without a parent (gone before or after our "L": logged;
   or -1): our own fsync. */
static int dirsync(void)
{
  char c = 'L';
  if (commitfd >= 0) {
    if (write(commitfd, &c, 1) == 1) {
      ssize_t r;
      do r = read(commitfd, &c, 1); while (r < 0 && errno == EINTR);
      if (r == 1) return c == 'C' ? 0 : QQ_TODO;
    }
    strerr_warnw1x("the server is gone: this process flushes msg/ itself");
  }
  return qwrite_syncdir();
}

/* stage 0: nothing written; 1: the file open; 2: the envelope. Advance to `to` */
static int advance(int *stage, int to, uint64_t uid)
{
  int e = 0;
  if (*stage < 1 && to >= 1) { e = qwrite_open(&w, (uint64_t)getpid(), uid, time(0)); *stage = 1; }
  if (!e && *stage < 2 && to >= 2) { e = qwrite_endmess(&w); *stage = 2; }
  return e;
}

static void log_queued(uint64_t uid, uint64_t bytes, const char *id)
{
  char u[UINT64_FMT], b[UINT64_FMT];
  u[uint64_fmt(u, uid)] = 0;
  b[uint64_fmt(b, bytes)] = 0;
  strerr_warni5x(id, ": uid ", u, " bytes ", b);
}

static void serve(int fd, uint64_t uid, uint64_t maxbytes)
{
  static char buf[QPROTO_FRAME_MAX];
  struct qproto_reader r = QPROTO_READER_ZERO;
  int stage = 0;
  w.fd = -1;
  alarm(DEATH);
  if (chdir_queue() < 0) fail(fd, QQ_QUEUEDIR);
  for (;;) {
    struct pollfd p = { fd, POLLIN, 0 };
    size_t off = 0, len;
    ssize_t got;
    int pr = poll(&p, 1, (int)idle * 1000);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) fail(fd, QQ_TIMEOUT);
    got = read(fd, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) { qwrite_undo(&w); _exit(QQ_READ); }  /* gone before the end: nothing stays */
    len = (size_t)got;
    while (off < len) {
      const char *o;
      size_t used, ol;
      int ev = qproto_next(&r, buf + off, len - off, &used, &o, &ol, maxbytes), e = 0;
      off += used;
      if (ev < 0) fail(fd, code_of(ev));
      if (ev == QPROTO_MSG) { if (!(e = advance(&stage, 1, uid))) e = qwrite_mess(&w, o, ol); }
      else if (ev == QPROTO_ENV || ev == QPROTO_END) {
        if (!(e = advance(&stage, 2, uid)) && ol) e = qwrite_env(&w, o, ol);
      }
      if (!e && ev == QPROTO_END) {
        char id[64];
        size_t il;
        if (off < len) fail(fd, QQ_ENVELOPE);
        if ((e = qwrite_link(&w)) || (e = dirsync()) || (e = qwrite_commit(&w))) fail(fd, e);
        il = qwrite_id(&w, id);
        answer(fd, 0, id, il);
        log_queued(uid, r.msgbytes, id);
        _exit(0);
      }
      if (e) fail(fd, e);
      if (ev == QPROTO_MORE) break;
    }
  }
}

/* ---- the server ---- */

static char msgdir[4200];   /* HOME/queue/msg */

/* fsync msg/: 1 ok, 0 failed (logged) */
static int syncmsg(void)
{
  int fd = open(msgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL)) {
    strerr_warnwu2sys("fsync ", msgdir);
    if (fd >= 0) close(fd);
    return 0;
  }
  close(fd);
  return 1;
}

static void onsig(int sig)
{
  int e = errno;
  char c = (char)sig;
  if (write(sigfd[1], &c, 1) < 0) { /* a full pipe already wakes us */ }
  errno = e;
}

static void reap(void)
{
  int st;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0)
    for (size_t i = 0; i < nclients; i++)
      if (clients[i].pid == p) { if (clients[i].fd >= 0) close(clients[i].fd); clients[i] = clients[--nclients]; break; }
}

static size_t count_uid(uint64_t uid)
{
  size_t n = 0;
  for (size_t i = 0; i < nclients; i++) n += clients[i].uid == uid;
  return n;
}

/* the client on fd: its uid from the kernel, then control/queueusers.
   The rule that admits it (and *uid), or 0 after a refusal (a uid that
   may not inject: 31) was answered and fd closed */
static const struct rule *admit(int fd, uint64_t *uid)
{
  struct ucred cr;
  socklen_t cl = sizeof cr;
  const struct rule *ru;
  char u[UINT64_FMT];
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cl != sizeof cr) {
    strerr_warnwu1sys("learn the client's uid (SO_PEERCRED)");
    answer(fd, QQ_BUG, 0, 0);
    close(fd);
    return 0;
  }
  *uid = cr.uid;
  ru = policy_for(cr.uid);
  if (ru && ru->conc) return ru;
  u[uint64_fmt(u, cr.uid)] = 0;
  strerr_warnw3x("refused uid ", u, ": not allowed (control/queueusers)");
  answer(fd, QQ_PERM_REFUSED, 0, 0);
  close(fd);
  return 0;
}

/* a process for the client on fd */
static void start(int lfd, int fd, uint64_t uid, uint64_t maxbytes)
{
  int sv[2];
  pid_t pid;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) { strerr_warnwu1sys("socketpair"); answer(fd, QQ_NOMEM, 0, 0); close(fd); return; }
  pid = fork();
  if (pid < 0) { strerr_warnwu1sys("fork"); answer(fd, QQ_NOMEM, 0, 0); close(fd); close(sv[0]); close(sv[1]); return; }
  if (!pid) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, 0); sigaction(SIGTERM, &sa, 0); sigaction(SIGHUP, &sa, 0);
    sa.sa_handler = sigalrm;
    sigaction(SIGALRM, &sa, 0);
    close(lfd); close(sigfd[0]); close(sigfd[1]);
    for (size_t i = 0; i < npending; i++) close(pending[i].fd);
    for (size_t i = 0; i < nclients; i++) if (clients[i].fd >= 0) close(clients[i].fd);
    close(sv[0]);
    commitfd = sv[1];
    serve(fd, uid, maxbytes);
  }
  close(sv[1]);
  clients[nclients].pid = pid;
  clients[nclients].uid = uid;
  clients[nclients].fd = sv[0];
  nclients++;
  close(fd);
}

/* clients of a uid at its concurrency wait here, in order, until one of
   that uid's processes ends (a burst from cron is served, not refused) */
static void start_pending(int lfd)
{
  for (size_t i = 0; i < npending && nclients < maxclients; i++) {
    const struct rule *ru = policy_for(pending[i].uid);
    struct client p = pending[i];
    if (ru && ru->conc && count_uid(p.uid) >= ru->conc) continue;
    memmove(pending + i, pending + i + 1, (npending - i - 1) * sizeof *pending);
    npending--;
    i--;
    if (!ru || !ru->conc) { answer(p.fd, QQ_PERM_REFUSED, 0, 0); close(p.fd); continue; }
    start(lfd, p.fd, p.uid, ru->bytes);
  }
}

static void accept_one(int lfd)
{
  const struct rule *ru;
  uint64_t uid;
  int fd = accept4(lfd, 0, 0, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) strerr_warnwu1sys("accept");
    return;
  }
  if (!(ru = admit(fd, &uid))) return;
  if (count_uid(uid) < ru->conc) { start(lfd, fd, uid, ru->bytes); return; }
  if (npending < maxclients) {
    pending[npending].fd = fd;
    pending[npending].uid = uid;
    npending++;
    return;
  }
  {
    char u[UINT64_FMT];
    u[uint64_fmt(u, uid)] = 0;
    strerr_warnw3x("refused uid ", u, ": too many injections at once and too many waiting");
  }
  answer(fd, QQ_REMOTE_REFUSED, 0, 0);
  close(fd);
}

/* the clients whose commit channel is ready in p[0..n) (p[i] is
   clients[i]'s): those that said "L" share one fsync of msg/, started
   now, after every one of their links; each gets "C" (or "F"). A channel
   at end of file is closed (its process is ending). */
static void group_commit(const struct pollfd *p, size_t n)
{
  static size_t waiting[CLIENTS_MAX];
  size_t nw = 0;
  char c[16], ans;
  for (size_t i = 0; i < n; i++) {
    ssize_t r;
    if (!p[i].revents || clients[i].fd < 0) continue;
    r = read(clients[i].fd, c, sizeof c);
    if (r > 0 && c[r - 1] == 'L') waiting[nw++] = i;
    else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) { close(clients[i].fd); clients[i].fd = -1; }
  }
  if (!nw) return;
  ans = syncmsg() ? 'C' : 'F';
  for (size_t k = 0; k < nw; k++)
    if (write(clients[waiting[k]].fd, &ans, 1) != 1) { /* that client is gone */ }
}

/* -1: fd 0 is one connected client (the crash test runs the client code
   path alone under strace this way) */
static void serve_one(void)
{
  struct sigaction sa;
  const struct rule *ru;
  uint64_t uid;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = sigalrm;
  sigaction(SIGALRM, &sa, 0);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, 0);
  if (!(ru = admit(0, &uid))) _exit(QQ_PERM_REFUSED);
  serve(0, uid, ru->bytes);
}

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  unsigned int notif = 0;
  struct sigaction sa;
  int opt, stop = 0, one = 0;
  while ((opt = subgetopt_r(argc, argv, "1c:t:d:", &l)) != -1) {
    if (opt == '1') { one = 1; continue; }
    if (opt == 'c' && uint0_scan(l.arg, &maxclients) && maxclients && maxclients <= CLIENTS_MAX) continue;
    if (opt == 't' && uint0_scan(l.arg, &idle) && idle && idle <= 86400) continue;
    if (opt == 'd' && uint0_scan(l.arg, &notif) && notif >= 3) continue;
    strerr_dieusage(100, USAGE);
  }
  umask(033);
  policy_load();
  if (strlen(home_get()) > 4000) strerr_dief1x(111, "home directory name too long");
  strcpy(msgdir, home_get());
  strcat(msgdir, "/queue/" QMSG_DIR);
  if (one) serve_one();
  if (pipe2(sigfd, O_CLOEXEC | O_NONBLOCK) < 0) strerr_diefu1sys(111, "pipe");
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onsig;
  sigaction(SIGCHLD, &sa, 0); sigaction(SIGTERM, &sa, 0); sigaction(SIGHUP, &sa, 0);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, 0);
  if (fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) < 0 || fcntl(0, F_SETFD, FD_CLOEXEC) < 0)
    strerr_diefu1sys(111, "set up the listening socket on fd 0");
  if (notif) { if (write((int)notif, "\n", 1) < 0) { /* s6 gone: run anyway */ } close((int)notif); }
  while (!stop) {
    static struct pollfd p[2 + CLIENTS_MAX];
    size_t nc = nclients;
    int acc = nclients < maxclients && npending < maxclients;
    char c;
    p[0].fd = sigfd[0]; p[0].events = POLLIN; p[0].revents = 0;
    p[1].fd = acc ? 0 : -1; p[1].events = POLLIN; p[1].revents = 0;
    for (size_t i = 0; i < nc; i++) { p[2 + i].fd = clients[i].fd; p[2 + i].events = POLLIN; p[2 + i].revents = 0; }
    if (poll(p, 2 + nc, -1) < 0 && errno != EINTR) strerr_diefu1sys(111, "poll");
    group_commit(p + 2, nc);
    while (read(sigfd[0], &c, 1) == 1) {
      if (c == SIGTERM) stop = 1;
      if (c == SIGHUP) policy_load();
    }
    reap();
    start_pending(0);
    if (acc && (p[1].revents & POLLIN)) accept_one(0);
  }
  return 0;
}
