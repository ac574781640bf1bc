/* send/remote-tls.c: start tern-tlsc and read its reply (remote-tls.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "send/remote-tls.h"

#define TLSC "bin/tern-tlsc"

static int why(struct rtls *t, const char *s)
{
  memset(&t->info, 0, sizeof t->info);
  strncpy(t->info.reason, s, UCSPITLS_FIELD_MAX);
  return -1;
}

/* in the child: net on 0 and 1, ctl on 3, data on 4, then exec */
static void child(int net, int ctl, int data, const char *const *args)
{
  const char *argv[RTLS_ARGS_MAX + 2];
  int a = fcntl(net, F_DUPFD, 10), b = fcntl(ctl, F_DUPFD, 10), c = fcntl(data, F_DUPFD, 10), k = 0;
  if (a < 0 || b < 0 || c < 0) _exit(111);
  if (dup2(a, 0) < 0 || dup2(a, 1) < 0 || dup2(b, 3) < 0 || dup2(c, 4) < 0) _exit(111);
  close(a); close(b); close(c);
  argv[0] = "tern-tlsc";
  while (args[k] && k < RTLS_ARGS_MAX) { argv[k + 1] = args[k]; k++; }
  argv[k + 1] = 0;
  execv(TLSC, (char *const *)argv);
  _exit(111);
}

/* read one reply line from t->ctl within secs; its length, or 0 */
static size_t readreply(struct rtls *t, char *buf, unsigned long secs)
{
  size_t n = 0;
  time_t dl = time(0) + (time_t)secs;
  while (n < UCSPITLS_REPLY_MAX && (!n || buf[n - 1] != '\n')) {
    struct pollfd p = { t->ctl, POLLIN, 0 };
    time_t now = time(0);
    ssize_t r;
    if (now >= dl) return 0;
    r = poll(&p, 1, (int)(dl - now) * 1000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    r = read(t->ctl, buf + n, UCSPITLS_REPLY_MAX - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    n += (size_t)r;
  }
  return n;
}

int rtls_start(struct rtls *t, int net, const char *const *args, unsigned long secs)
{
  int cp[2], dp[2];
  char buf[UCSPITLS_REPLY_MAX], y = UCSPITLS_START;
  size_t n;
  t->pid = 0; t->ctl = t->data = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cp) < 0) return why(t, "unable to create a socket pair");
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dp) < 0) {
    close(cp[0]); close(cp[1]);
    return why(t, "unable to create a socket pair");
  }
  t->pid = fork();
  if (t->pid == 0) child(net, cp[1], dp[1], args);
  close(cp[1]); close(dp[1]);
  t->ctl = cp[0]; t->data = dp[0];
  if (t->pid < 0) { t->pid = 0; rtls_end(t); return why(t, "unable to fork"); }
  if (write(t->ctl, &y, 1) != 1) { rtls_end(t); return why(t, "tern-tlsc did not start"); }
  n = readreply(t, buf, secs);
  if (!n) { rtls_end(t); return why(t, "tern-tlsc gave no answer"); }
  if (ucspitls_parse(buf, n, &t->info) < 0) { rtls_end(t); return why(t, "tern-tlsc gave a malformed answer"); }
  if (!t->info.ok) { rtls_end(t); return -1; }
  if (fcntl(t->data, F_SETFL, fcntl(net, F_GETFL)) < 0) { rtls_end(t); return why(t, "unable to set the channel's flags"); }
  return 0;
}

void rtls_end(struct rtls *t)
{
  if (t->data >= 0) close(t->data);
  if (t->ctl >= 0) close(t->ctl);
  t->data = t->ctl = -1;
  if (t->pid > 0) {
    for (int k = 0; k < 200; k++) {
      pid_t r = waitpid(t->pid, 0, WNOHANG);
      if (r == t->pid || (r < 0 && errno != EINTR)) { t->pid = 0; return; }
      struct timespec ts = { 0, 10000000 };
      nanosleep(&ts, 0);
    }
    kill(t->pid, SIGKILL);
    (void)waitpid(t->pid, 0, 0);
    t->pid = 0;
  }
}
