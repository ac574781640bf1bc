/* qclient: the one queue-injection client (common/qclient.h). Talks to
   tern-queued on the queue socket (common/qproto.h), or runs a queue
   program with the qmail-queue(8) interface: message on its fd 0,
   envelope on its fd 1, its fd 2 and fd 6 read back. Every descriptor the
   parent keeps is close-on-exec and nonblocking; every wait is bounded by
   the caller's deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include "common/ctl.h"
#include "common/filters.h"
#include "common/home.h"
#include "common/qclient.h"
#include "common/qproto.h"
#include "common/qqcode.h"

#define DRAIN_MS 1000   /* reading fds 2 and 6 after the program exited */
#define STEP_MS 50      /* longest sleep between two looks at the child */

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* milliseconds left before the deadline: -1 with no deadline, 0 once it
   has passed, else at most 60 s (callers loop) */
static int left_ms(const struct qclient *q)
{
  long long d;
  if (!q->deadline) return -1;
  d = (long long)q->deadline * 1000 - now_ms();
  if (d <= 0) return 0;
  return d > 60000 ? 60000 : (int)d;
}

static void closefd(int *fd)
{
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* read what fd has now into buf (kept up to QCLIENT_TEXTMAX, the rest
   read and dropped); closes fd at EOF or on an error */
static void drain(int *fd, char *buf, size_t *len)
{
  char junk[512];
  for (;;) {
    ssize_t r = *len < QCLIENT_TEXTMAX ? read(*fd, buf + *len, QCLIENT_TEXTMAX - *len) : read(*fd, junk, sizeof junk);
    if (r > 0) {
      if (*len < QCLIENT_TEXTMAX) *len += (size_t)r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    closefd(fd);
    return;
  }
}

/* Wait up to ms (-1: no limit) for wfd (-1: none) to be writable, reading
   fds 2 and 6 meanwhile. 1 if wfd is ready, else 0. */
static int await(struct qclient *q, int wfd, int ms)
{
  struct pollfd p[3];
  nfds_t n = 0;
  int r, ie = -1, it = -1;
  if (wfd >= 0) { p[n].fd = wfd; p[n].events = POLLOUT; p[n].revents = 0; n++; }
  if (q->errfd >= 0) { ie = (int)n; p[n].fd = q->errfd; p[n].events = POLLIN; p[n].revents = 0; n++; }
  if (q->txtfd >= 0) { it = (int)n; p[n].fd = q->txtfd; p[n].events = POLLIN; p[n].revents = 0; n++; }
  if (!n && ms < 0) return 0;
  r = poll(p, n, ms);
  if (r <= 0) return 0;
  if (ie >= 0 && p[ie].revents) drain(&q->errfd, q->errbuf, &q->errlen);
  if (it >= 0 && p[it].revents) drain(&q->txtfd, q->txtbuf, &q->txtlen);
  return wfd >= 0 && p[0].revents != 0;
}

/* all of s[0..n) to fd within the deadline; 0, or -1 with q->werr set
   (ETIMEDOUT when the deadline passed) */
static int putall(struct qclient *q, int fd, const char *s, size_t n)
{
  while (n) {
    ssize_t w;
    int ms;
    if (q->werr) return -1;
    w = write(fd, s, n);
    if (w > 0) { s += w; n -= (size_t)w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { q->werr = errno; return -1; }
    ms = left_ms(q);
    if (!ms) { q->werr = ETIMEDOUT; return -1; }
    await(q, fd, ms);
  }
  return 0;
}

/* s[0..n) to the queue: as frames of type t on the socket, else raw to
   the program's fd (message or envelope) */
static int send_bytes(struct qclient *q, char t, const char *s, size_t n)
{
  if (!q->viasock) return putall(q, t == 'M' ? q->msgfd : q->envfd, s, n);
  while (n) {
    unsigned char h[QPROTO_HDR];
    size_t c = n < QPROTO_FRAME_MAX ? n : QPROTO_FRAME_MAX;
    qproto_hdr(h, t, (uint32_t)c);
    if (putall(q, q->sock, (const char *)h, sizeof h) < 0 || putall(q, q->sock, s, c) < 0) return -1;
    s += c;
    n -= c;
  }
  return 0;
}

static int flush(struct qclient *q)
{
  size_t n = q->blen;
  q->blen = 0;
  return send_bytes(q, 'M', q->buf, n);
}

/* connect to HOME/sock/queue (nonblocking, close-on-exec); retried while
   the server's backlog is full, within the deadline or 10 s. The
   descriptor, or -1 with errno */
static int sock_connect(struct qclient *q)
{
  struct sockaddr_un a;
  const char *h = home_get();
  size_t hl = strlen(h);
  long long give_up = now_ms() + 10000;
  int fd;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (hl + sizeof "/sock/queue" > sizeof a.sun_path) { errno = ENAMETOOLONG; return -1; }
  memcpy(a.sun_path, h, hl);
  memcpy(a.sun_path + hl, "/sock/queue", sizeof "/sock/queue");
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  while (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN && left_ms(q) != 0 && now_ms() < give_up) { poll(0, 0, 20); continue; }
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* pipe with both ends close-on-exec and the parent's end nonblocking */
static int pipe_coe(int p[2], int parent)
{
  if (pipe(p) < 0) return -1;
  if (fcntl(p[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(p[1], F_SETFD, FD_CLOEXEC) < 0
      || fcntl(p[parent], F_SETFL, fcntl(p[parent], F_GETFL) | O_NONBLOCK) < 0) {
    close(p[0]); close(p[1]);
    return -1;
  }
  return 0;
}

/* the child: its ends of the pipes become fds 0, 1, 2 and 6 (copied above
   6 first, so that no dup2 overwrites a descriptor still to be moved) */
static void child(const int ends[4], char *const *argv, const char *source)
{
  static const int to[4] = { 0, 1, 2, 6 };
  int hi[4];
  sigset_t none;
  for (int i = 0; i < 4; i++)
    if ((hi[i] = fcntl(ends[i], F_DUPFD_CLOEXEC, 7)) < 0) _exit(QQ_CANTRUN);
  for (int i = 0; i < 4; i++)
    if (dup2(hi[i], to[i]) < 0) _exit(QQ_CANTRUN);
  signal(SIGPIPE, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, 0);
  if (source && (setenv("TERN_FILTER_SOURCE", source, 1) < 0 || setenv("TERN_FILTER_NEXT", "0", 1) < 0))
    _exit(QQ_NOMEM);
  execv(argv[0], argv);
  _exit(QQ_CANTRUN);
}

/* qclient_open, and for a filter chain the name of its source (tern-qnext
   is then the program) */
static int start(struct qclient *q, const char *qqprog, const char *source, unsigned int timeout)
{
  char *argv[2];
  int p[4][2], ends[4], e, i;
  q->sock = -1;
  q->sockerr = 0;
  q->viasock = 0;
  q->pid = 0;
  q->msgfd = q->envfd = q->errfd = q->txtfd = -1;
  q->werr = 0;
  q->blen = q->errlen = q->txtlen = 0;
  q->id[0] = q->text[0] = 0;
  q->textperm = 0;
  q->status = -1;
  q->deadline = 0;
  if (timeout) q->deadline = (time_t)(now_ms() / 1000) + (time_t)timeout;
  if (!qqprog || !*qqprog) {
    q->viasock = 1;
    q->sock = sock_connect(q);
    if (q->sock < 0) q->sockerr = errno ? errno : ECONNREFUSED;
    return 0;
  }
  argv[0] = (char *)qqprog;
  argv[1] = 0;  /* a filter gets no -i: the qmail-queue interface has none */
  /* the message and envelope pipes: the parent writes; fds 2 and 6: it reads */
  for (i = 0; i < 4; i++)
    if (pipe_coe(p[i], i < 2 ? 1 : 0) < 0) goto fail;
  for (i = 0; i < 4; i++) ends[i] = p[i][i < 2 ? 0 : 1];
  q->pid = fork();
  if (q->pid < 0) { q->pid = 0; goto fail; }
  if (!q->pid) child(ends, argv, source);
  for (i = 0; i < 4; i++) close(ends[i]);
  q->msgfd = p[0][1];
  q->envfd = p[1][1];
  q->errfd = p[2][0];
  q->txtfd = p[3][0];
  return 0;
fail:
  e = errno;
  while (i-- > 0) { close(p[i][0]); close(p[i][1]); }
  errno = e;
  return -1;
}

int qclient_open(struct qclient *q, const char *qqprog, unsigned int flags, unsigned int timeout)
{
  (void)flags;
  return start(q, qqprog, 0, timeout);
}

/* 1 if control/filters has a chain for src, or cannot be read or checked
   (tern-qnext then refuses the message, rather than skip a filter) */
static int has_chain(int src)
{
  struct ctl_list l = CTL_LIST_ZERO;
  char fn[4096];
  size_t bad;
  int r;
  if (snprintf(fn, sizeof fn, "%s/control/filters", home_get()) >= (int)sizeof fn) return 1;
  r = ctl_readlist(fn, &l);
  if (r == 0) return 0;
  if (r < 0) return 1;
  r = filters_check(l.s, l.len, l.n, &bad) < 0 || filters_nth(l.s, l.len, l.n, src, 0) != 0;
  ctl_listfree(&l);
  return r;
}

int qclient_open_source(struct qclient *q, int src, unsigned int flags, unsigned int timeout)
{
  const char *qq = getenv("QMAILQUEUE");
  char next[4096];
  if (qq && *qq) return start(q, qq, 0, timeout);
  if (!filters_name(src) || !has_chain(src)) return start(q, 0, 0, timeout);
  if (snprintf(next, sizeof next, "%s/bin/tern-qnext", home_get()) >= (int)sizeof next) { errno = ENAMETOOLONG; return -1; }
  (void)flags;
  return start(q, next, filters_name(src), timeout);
}

int qclient_write(struct qclient *q, const char *s, size_t n)
{
  if (q->werr) return -1;
  if (q->viasock ? q->sock < 0 : (q->pid <= 0 || q->msgfd < 0)) { q->werr = q->sockerr ? q->sockerr : EBADF; return -1; }
  if (n <= sizeof q->buf - q->blen) {
    memcpy(q->buf + q->blen, s, n);
    q->blen += n;
    return 0;
  }
  if (flush(q) < 0) return -1;
  if (n >= sizeof q->buf) return send_bytes(q, 'M', s, n);
  memcpy(q->buf, s, n);
  q->blen = n;
  return 0;
}

/* Reap the program, reading fds 2 and 6 meanwhile; past the deadline it
   is killed. Its exit code, QQ_TIMEOUT, or QQ_BUG (a signal, or no child). */
static int reap(struct qclient *q)
{
  int st, step = 1;
  for (;;) {
    pid_t r;
    int ms;
    if (!q->deadline && q->errfd < 0 && q->txtfd < 0) r = waitpid(q->pid, &st, 0);
    else r = waitpid(q->pid, &st, WNOHANG);
    if (r == q->pid) break;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { q->pid = 0; q->status = -1; return QQ_BUG; }
    ms = left_ms(q);
    if (!ms) {
      kill(q->pid, SIGKILL);
      while ((r = waitpid(q->pid, &st, 0)) < 0 && errno == EINTR) {}
      q->status = r == q->pid ? st : -1;
      q->pid = 0;
      return QQ_TIMEOUT;
    }
    if (ms < 0 || ms > STEP_MS) ms = STEP_MS;
    if (q->errfd >= 0 || q->txtfd >= 0) await(q, -1, ms);
    else {
      /* the pipes closed: the exit is a moment away; look again soon */
      poll(0, 0, step < ms ? step : ms);
      if (step < STEP_MS) step *= 2;
    }
  }
  q->pid = 0;
  q->status = st;
  return WIFEXITED(st) ? WEXITSTATUS(st) : QQ_BUG;
}

/* what is left on fds 2 and 6 (for at most DRAIN_MS: a program's own
   child may hold them open), then close them */
static void drain_rest(struct qclient *q)
{
  long long end = now_ms() + DRAIN_MS;
  while (q->errfd >= 0 || q->txtfd >= 0) {
    long long left = end - now_ms();
    if (left <= 0) break;
    await(q, -1, (int)left);
  }
  closefd(&q->errfd);
  closefd(&q->txtfd);
}

/* the server's answer: read until EOF or a whole answer, within the
   deadline (or DRAIN_MS when no complete request was sent: then only an
   early refusal can be waiting). The code, or -1 if none came. */
static int sock_answer(struct qclient *q, int complete)
{
  char r[QPROTO_REPLY_MAX + 1];
  size_t n = 0;
  long long end = now_ms() + DRAIN_MS;
  int code;
  for (;;) {
    struct pollfd p;
    ssize_t got;
    int ms = complete ? left_ms(q) : (int)(end - now_ms());
    if (!complete && ms <= 0) return -1;
    p.fd = q->sock; p.events = POLLIN; p.revents = 0;
    if (ms == 0) return -2;  /* the deadline */
    if (poll(&p, 1, ms) == 0) continue;
    got = read(q->sock, r + n, sizeof r - n);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;
    n += (size_t)got;
    if (n >= 2 && n >= 2 + (size_t)(unsigned char)r[1]) break;
    if (n == sizeof r) break;
  }
  if (!qproto_parsereply(r, n, &code, q->id)) { q->id[0] = 0; return -1; }
  return code;
}

static int sock_close(struct qclient *q, const char *env, size_t envlen)
{
  int code, sent = 0;
  if (q->sock < 0) code = 111;
  else {
    if (!q->werr) flush(q);
    if (!q->werr && envlen) sent = send_bytes(q, 'E', env, envlen) == 0;
    if (!sent) shutdown(q->sock, SHUT_WR);  /* no request: the server cleans up and closes */
    code = sock_answer(q, sent);
    if (code == -2) code = QQ_TIMEOUT;
    else if (code < 0) code = q->werr ? QQ_WRITE : sent ? QQ_BUG : QQ_READ;
    if (code == 0 && q->werr) code = QQ_WRITE;
    if (code == 0 && q->id[0]) {  /* checked as a program's -i line is */
      char line[QCLIENT_IDMAX + 1];
      size_t l = strlen(q->id);
      memcpy(line, q->id, l);
      line[l] = '\n';
      qclient_parseid(q->id, line, l + 1);
    }
    close(q->sock);
  }
  q->sock = -1;
  q->viasock = 0;
  q->text[0] = 0;
  q->textperm = 0;
  q->status = code << 8;  /* as waitpid would report "exited with code" */
  q->blen = 0;
  return code;
}

int qclient_close(struct qclient *q, const char *env, size_t envlen)
{
  int code;
  if (q->viasock) return sock_close(q, env, envlen);
  if (q->pid <= 0) return QQ_BUG;
  if (!q->werr) flush(q);
  closefd(&q->msgfd);
  /* after a failed write no envelope: the program then queues nothing */
  if (!q->werr) putall(q, q->envfd, env, envlen);
  closefd(&q->envfd);
  if (q->werr == ETIMEDOUT) q->deadline = 1;  /* given up: kill it at once */
  code = reap(q);
  drain_rest(q);
  qclient_settext(q, code, q->errbuf, q->errlen, q->txtbuf, q->txtlen);
  if (code == 0 && q->werr) code = QQ_WRITE;
  q->blen = 0;
  return code;
}

void qclient_abort(struct qclient *q)
{
  if (q->viasock) {
    /* no envelope: the server removes what it wrote and closes; waiting
       for that (at most DRAIN_MS) means nothing of it is left once we
       return, while the server runs */
    if (q->sock >= 0) {
      shutdown(q->sock, SHUT_WR);
      sock_answer(q, 0);
      close(q->sock);
    }
    q->sock = -1;
    q->viasock = 0;
    q->blen = 0;
    return;
  }
  if (q->pid <= 0) return;
  closefd(&q->msgfd);
  closefd(&q->envfd);
  closefd(&q->errfd);
  closefd(&q->txtfd);
  reap(q);
  q->blen = 0;
}

void qclient_relay(const struct qclient *q, int code)
{
  char t[QCLIENT_TEXTMAX + 2];
  size_t n;
  int fd = 2;
  if (code == QQ_CUSTOM) {
    t[0] = q->textperm ? 'D' : 'Z';
    n = strlen(q->text);
    memcpy(t + 1, q->text, n);
    n++;
    fd = 6;
  } else {
    const char *s = !code ? q->id : q->text;
    n = strlen(s);
    if (!n) return;
    memcpy(t, s, n);
    t[n++] = '\n';
  }
  if (write(fd, t, n) < 0) { /* the exit code still tells */ }
}

const char *qclient_describe(const struct qclient *q, int code, int *permanent)
{
  if (code == 111) {  /* no socket (ours, or s6-sudo's exit code) */
    *permanent = 0;
    return "cannot reach the queue socket (#4.3.0)";
  }
  if (code == QQ_CUSTOM && q && q->text[0]) {
    *permanent = q->textperm;
    return q->text;
  }
  return qq_describe(code, permanent);
}

/* ---- the text parser (pure) ---- */

static int digit(char c) { return c >= '0' && c <= '9'; }
static int idchar(char c) { return digit(c) || (c >= 'a' && c <= 'z'); }

int qclient_parseid(char *id, const char *s, size_t n)
{
  size_t i = 4, j;
  id[0] = 0;
  if (n < 4 || n >= QCLIENT_IDMAX || s[n - 1] != '\n' || memcmp(s, "msg ", 4)) return 0;
  while (i < n && idchar(s[i])) i++;
  if (i == 4 || i + 4 >= n || memcmp(s + i, " qp ", 4)) return 0;
  j = i + 4;
  while (j < n && digit(s[j])) j++;
  if (j == i + 4 || j != n - 1) return 0;
  memcpy(id, s, n - 1);
  id[n - 1] = 0;
  return 1;
}

/* s[0..n) as printable text into dst (QCLIENT_TEXTMAX bytes) */
static void printable(char *dst, const char *s, size_t n)
{
  size_t k = 0;
  for (size_t i = 0; i < n && k < QCLIENT_TEXTMAX - 1; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
    else if (c < 0x20 || c > 0x7e) c = '?';
    dst[k++] = (char)c;
  }
  while (k && dst[k - 1] == ' ') k--;
  dst[k] = 0;
}

void qclient_settext(struct qclient *q, int code, const char *err, size_t errlen, const char *txt, size_t txtlen)
{
  q->textperm = 0;
  if (qclient_parseid(q->id, err, errlen)) errlen = 0;
  else if (errlen > 1 && err[errlen - 1] == '\n') {
    /* a filter's diagnostic lines, then the id as the last line */
    size_t s = errlen - 1;
    while (s > 0 && err[s - 1] != '\n') s--;
    if (s > 0 && qclient_parseid(q->id, err + s, errlen - s)) errlen = s;
  }
  if (code == QQ_CUSTOM) {
    if (txtlen) {
      q->textperm = txt[0] == 'D';
      printable(q->text, txt + 1, txtlen - 1);
    } else q->text[0] = 0;
  } else printable(q->text, err, errlen);
}
