/* tern-send: the queue manager (qmail-send). Runs as terns, started by
   tern-start. Reads each queued message msg/N into memory (todo.c), with
   what its journal state/journal recorded (journal.c);
   schedules deliveries through tern-lspawn (fd 3/4) and tern-rspawn (fd
   5/6) with qmail's retry schedule (msgs.c, jobs.c); records bounces in
   bounce/N and injects one RFC 3464 bounce per message (bounce.c); has
   tern-clean (fd 7/8) remove what terns may not (files.c). Logs every event
   on fd 1 (slog.c). This file: start-up, signals and the main loop, in
   which each part adds to the poll set and acts when woken. See
   tern-send.8. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>

#include "common/home.h"
#include "send/slog.h"
#include "send/files.h"
#include "send/sconf.h"
#include "send/msgs.h"
#include "send/todo.h"
#include "send/jobs.h"
#include "send/loop.h"
#include "send/ctl.h"

static int sfd, ip_sig;
static int stopping, flagalrm, flaghup;

/* SIGTERM: start nothing new; once no delivery runs, remember each pending
   retry time and exit */
static void shutdown_now(void)
{
  msg_saveretry();
  log1("status: exiting");
  die_exit(0);
}

/* the signals the self-pipe woke us for */
static void signals_run(const struct loop *l)
{
  int sig;
  if (!loop_ready(l, ip_sig)) return;
  while ((sig = selfpipe_read()) > 0) {
    if (sig == SIGTERM) stopping = 1;
    else if (sig == SIGALRM) flagalrm = 1;
    else if (sig == SIGHUP) flaghup = 1;
  }
}

/* the poll timeout in milliseconds for the turn l */
static int loop_timeout(const struct loop *l)
{
  time_t now = time(0);
  int timeout = l->wake <= now ? 0 : (l->wake - now > 86400 ? 86400 : (int)(l->wake - now));
  int64_t ms;
  if (timeout) timeout++;   /* qmail's one-second fuzz */
  ms = (int64_t)timeout * 1000;
  if (l->wake_ms != INT64_MAX) {
    int64_t left = l->wake_ms - mono_ms();
    if (left < 0) left = 0;
    if (left < ms) ms = left;
  }
  return (int)ms;
}

/* one turn: the work that is due, then wait for a descriptor or the
   earliest wake-up time, then what woke us */
static void turn(void)
{
  struct loop l;
  time_t now = time(0);
  if (flaghup) { flaghup = 0; sconf_reload(); }
  if (flagalrm) { flagalrm = 0; msg_alldue(); }
  if (stopping) {
    if (jobs_idle()) shutdown_now();
  } else {
    todo_tick(now);
    msg_run(now);
    jobs_tick(now);
  }
  l.n = 0;
  l.now = time(0);
  l.wake = LOOP_NEVER;
  l.wake_ms = INT64_MAX;
  ip_sig = loop_add(&l, sfd, POLLIN);
  todo_prepare(&l, stopping);
  jobs_prepare(&l, stopping);
  if (!stopping) msg_prepare(&l);
  ctl_prepare(&l);
  log_flush();
  if (poll(l.p, (nfds_t)l.n, loop_timeout(&l)) < 0) {
    if (errno == EINTR) return;
    log1("alert: poll failed; dying...");
    die_exit(111);
  }
  signals_run(&l);
  todo_run(&l);
  jobs_run(&l);
  ctl_run(&l);
}

int main(void)
{
  int lock;
  PROG = "tern-send";
  atexit(log_flush);

  if (!jobs_probe() || fcntl(FD_CCMD, F_GETFD) < 0 || fcntl(FD_CRES, F_GETFD) < 0)
    strerr_dief1x(111, "fds 3, 4, 7 and 8 must be open: run me from tern-start");
  ctl_probe();
  if (chdir(home_get()) < 0) { log1("alert: cannot start: unable to chdir to home"); return 111; }
  if (!sconf_start()) return 111;
  if (chdir("queue") < 0) { log1("alert: cannot start: unable to chdir to queue"); return 111; }
  sig_ignore(SIGPIPE);
  umask(077);
  lock = open("lock/sendmutex", O_WRONLY | O_CLOEXEC);
  if (lock < 0) { log1("alert: cannot start: unable to open lock/sendmutex"); return 111; }
  if (fd_lock(lock, 1, 1) != 1) { log1("alert: cannot start: tern-send is already running"); return 111; }
  sfd = selfpipe_init();
  if (sfd < 0 || !selfpipe_trap(SIGTERM) || !selfpipe_trap(SIGALRM) || !selfpipe_trap(SIGHUP)) {
    log1("alert: cannot start: unable to trap signals");
    return 111;
  }
  todo_init();
  if (!jobs_start()) return 111;
  ctl_start();
  todo_start();
  jobs_status();
  for (;;) turn();
}
