/* tern-queue: put one message into the queue, crash-safely.
   The qmail-queue(8) interface: message on fd 0, envelope on fd 1, the
   qmail-queue exit codes (common/qqcode.h). See queue/tern-queue.8. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include "common/date822.h"
#include "common/envelope.h"
#include "common/home.h"
#include "common/qfn.h"
#include "common/qqcode.h"

#define DEATH 86400  /* 24 hours; tern-send's cleanup waits 36 hours */
#define IOBUF 65536

static char fnpid[QFN_MAX + 32];
static char fnmess[QFN_MAX];
static char fnintd[QFN_MAX];
static char fntodo[QFN_MAX];
static int madepid = 0, mademess = 0, madeintd = 0, madetodo = 0;

static char inbuf[IOBUF];
static char outbuf[IOBUF];

static void cleanup(void)
{
  if (madetodo) unlink(fntodo);
  if (madeintd) unlink(fnintd);
  if (mademess) unlink(fnmess);
  if (madepid) unlink(fnpid);
}

static void die(int code) { cleanup(); _exit(code); }

/* all of s[0..len) into b (buffer_putall resumes at *w: start it at 0) */
static int put(buffer *b, const char *s, size_t len)
{
  size_t w = 0;
  return buffer_putall(b, s, len, &w);
}

static void sigalrm(int sig) { (void)sig; _exit(QQ_TIMEOUT); /* no cleanup, like qmail */ }

/* fsync a directory: its entries are as durable as the files they name */
static int syncdir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e;
  if (fd < 0) return 0;
  if (fsync(fd) < 0 && errno != EINVAL) { e = errno; close(fd); errno = e; return 0; }
  close(fd);
  return 1;
}

/* the injecting uid: IPCREMOTEEUID (set by s6-ipcserver) or our real uid */
static uint64_t injector_uid(void)
{
  const char *s = getenv("IPCREMOTEEUID");
  uint64_t u;
  if (!s) return (uint64_t)getuid();
  if (!qfn_scanu64(s, strlen(s), &u) || u > UINT32_MAX) die(QQ_BUG);
  return u;
}

static size_t fmt_received(char *dst, uint64_t pid, uint64_t uid, time_t now)
{
  size_t n = 0;
  memcpy(dst + n, "Received: (tern ", 16); n += 16;
  n += qfn_fmtu64(dst + n, pid);
  memcpy(dst + n, " invoked by uid ", 16); n += 16;
  n += qfn_fmtu64(dst + n, uid);
  memcpy(dst + n, "); ", 3); n += 3;
  n += date822_fmt(dst + n, now);
  dst[n++] = '\n';
  return n;
}

/* chdir to HOME/queue */
static void go_queue(void)
{
  char home[4096 + 8];
  size_t len = strlen(home_get());
  if (len > sizeof home - 8) _exit(QQ_HOME);
  memcpy(home, home_get(), len);
  memcpy(home + len, "/queue", 7);
  if (chdir(home) < 0) _exit(QQ_QUEUEDIR);
}

/* pid/PID.TIME.SEQ, O_EXCL; its inode number names the message: the file
   becomes mess/N (linked, the pid name removed). Returns its descriptor
   and sets *n and the file names. */
static int make_mess(uint64_t pid, time_t now, uint64_t *n)
{
  struct stat st;
  int fd = -1, seq;
  for (seq = 1; seq <= 9; seq++) {
    size_t l = 0;
    memcpy(fnpid, "pid/", 4); l = 4;
    l += qfn_fmtu64(fnpid + l, pid); fnpid[l++] = '.';
    l += qfn_fmtu64(fnpid + l, (uint64_t)now); fnpid[l++] = '.';
    fnpid[l++] = (char)('0' + seq); fnpid[l] = 0;
    fd = open(fnpid, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) break;
    if (errno != EEXIST) die(QQ_PID);
  }
  if (fd < 0) die(QQ_PID);
  madepid = 1;
  if (fstat(fd, &st) < 0) die(QQ_PID);
  *n = (uint64_t)st.st_ino;
  qfn_split(fnmess, "mess", *n);
  qfn_flat(fnintd, "intd", *n);
  qfn_flat(fntodo, "todo", *n);

  if (link(fnpid, fnmess) < 0) die(QQ_MESS);
  mademess = 1;
  if (unlink(fnpid) < 0) die(QQ_PID);
  madepid = 0;
  return fd;
}

/* the message: our Received line, then fd 0 as it is; durable with its
   directory entry */
static void write_mess(int fd, uint64_t n, uint64_t pid, uint64_t uid, time_t now)
{
  char received[128];
  buffer in = BUFFER_INIT(&buffer_read, 0, inbuf, sizeof inbuf);
  buffer out = BUFFER_INIT(&buffer_write, fd, outbuf, sizeof outbuf);
  size_t w, len = fmt_received(received, pid, uid, now);
  if (!put(&out, received, len)) die(QQ_WRITE);
  for (;;) {
    struct iovec v[2];
    ssize_t r = buffer_fill(&in);
    if (r < 0) die(QQ_READ);
    if (r == 0) break;
    buffer_rpeek(&in, v);
    w = 0;
    if (!buffer_putvall(&out, v, 2, &w)) die(QQ_WRITE);
    buffer_rseek(&in, v[0].iov_len + v[1].iov_len);
  }
  if (!buffer_flush(&out)) die(QQ_WRITE);
  if (fsync(fd) < 0) die(QQ_WRITE);
  if (close(fd) < 0) die(QQ_WRITE);
  {
    char dir[QFN_MAX];
    size_t l = qfn_split(dir, "mess", n);
    while (l && dir[l - 1] != '/') l--;
    dir[l ? l - 1 : 0] = 0;
    if (!syncdir(dir)) die(QQ_WRITE);
  }
}

/* the envelope into intd/N: u uid, p pid, then fd 1 validated, without
   the final NUL */
static void write_intd(uint64_t pid, uint64_t uid)
{
  buffer in = BUFFER_INIT(&buffer_read, 1, inbuf, sizeof inbuf);
  buffer out;
  struct envelope_reader er = ENVELOPE_READER_ZERO;
  char head[2 * (2 + 20 + 1)];
  size_t l = 0;
  int done = 0, fd = open(fnintd, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) die(QQ_INTD);
  madeintd = 1;
  buffer_init(&out, &buffer_write, fd, outbuf, sizeof outbuf);
  head[l++] = 'u'; l += qfn_fmtu64(head + l, uid); head[l++] = 0;
  head[l++] = 'p'; l += qfn_fmtu64(head + l, pid); head[l++] = 0;
  if (!put(&out, head, l)) die(QQ_WRITE);
  while (!done) {
    struct iovec v[2];
    ssize_t r = buffer_fill(&in);
    if (r < 0) die(QQ_READ);
    if (r == 0) die(QQ_ENVELOPE); /* EOF before the final NUL */
    buffer_rpeek(&in, v);
    for (int i = 0; i < 2 && !done; i++) {
      size_t used = 0;
      int e;
      if (!v[i].iov_len) continue;
      e = envelope_feed(&er, v[i].iov_base, v[i].iov_len, &used);
      if (e == ENVELOPE_ETOOLONG) die(QQ_TOOLONG);
      if (e < 0) die(QQ_ENVELOPE);
      if (e == ENVELOPE_DONE) { done = 1; if (used) used--; /* not the final NUL */ }
      if (used && !put(&out, v[i].iov_base, used)) die(QQ_WRITE);
    }
    buffer_rseek(&in, v[0].iov_len + v[1].iov_len);
  }
  if (!buffer_flush(&out)) die(QQ_WRITE);
  if (fsync(fd) < 0) die(QQ_WRITE);
  if (close(fd) < 0) die(QQ_WRITE);
}

/* -i: tell the client the message number on fd 2 (tern-smtpd puts it in
   its 250 reply and log line, so one grep follows a message from SMTP on) */
static void report_id(uint64_t n, uint64_t pid)
{
  char line[64];
  size_t l = 0;
  memcpy(line, "msg ", 4); l = 4;
  l += qfn_fmtu64(line + l, n);
  memcpy(line + l, " qp ", 4); l += 4;
  l += qfn_fmtu64(line + l, pid);
  line[l++] = '\n';
  if (write(2, line, l) < 0) { /* the message is queued all the same */ }
}

int main(int argc, char const *const *argv)
{
  uint64_t pid, uid, n;
  time_t now;
  int fd;

  umask(033);
  sig_ignore(SIGPIPE);
  uid = injector_uid();
  pid = (uint64_t)getpid();
  go_queue();

  sig_catch(SIGALRM, &sigalrm);
  alarm(DEATH);

  now = time(0);
  fd = make_mess(pid, now, &n);
  write_mess(fd, n, pid, uid, now);
  write_intd(pid, uid);

  if (link(fnintd, fntodo) < 0) die(QQ_TODO);
  madetodo = 1;
  if (!syncdir("todo")) die(QQ_TODO);
  madetodo = madeintd = mademess = 0;  /* safely queued: nothing to undo */

  if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'i' && !argv[1][2]) report_id(n, pid);

  /* wake tern-send; failure does not matter, its scan finds todo/N anyway */
  fd = open("lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) { if (write(fd, "", 1) < 0) { /* ignored */ } close(fd); }
  _exit(QQ_OK);
}
