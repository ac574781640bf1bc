/* common/qclient.c: real children (small shell scripts in a temp dir as
   the queue program) for each way an injection ends, and table rows for
   the fd-2/fd-6 text parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/home.h"
#include "common/qclient.h"
#include "common/qqcode.h"

static char dir[64];
static const char env1[] = "Fa@b\0Tc@d\0Te@f\0";   /* with the final NUL: 17 bytes */
#define ENV1LEN (sizeof env1)

/* dir/name: a shell script with body; its path (static, reused) */
static const char *prog(const char *name, const char *body)
{
  static char fn[256];
  FILE *f;
  snprintf(fn, sizeof fn, "%s/%s", dir, name);
  f = fopen(fn, "w");
  assert_non_null(f);
  fprintf(f, "#!/bin/sh\nD=%s\n%s\n", dir, body);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chmod(fn, 0755), 0);
  return fn;
}

/* the contents of dir/name (at most 2 MB), its length in *n */
static char *slurp(const char *name, size_t *n)
{
  static char buf[2 << 20];
  char fn[256];
  FILE *f;
  snprintf(fn, sizeof fn, "%s/%s", dir, name);
  f = fopen(fn, "r");
  assert_non_null(f);
  *n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

/* descriptors open in this process */
static int nfds(void)
{
  int n = 0;
  for (int fd = 0; fd < 1024; fd++) if (fcntl(fd, F_GETFD) >= 0) n++;
  return n;
}

static double since(const struct timespec *t0)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

#define READS_BOTH "cat >\"$D/msg\" && cat <&1 >\"$D/env\" && "

static void t_ok(void **st)
{
  struct qclient q;
  const char *p = prog("ok", READS_BOTH "exit 0");
  static char big[300000];
  size_t n, sent = 0;
  char *got;
  int fds0 = nfds();
  (void)st;
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
  assert_int_equal(qclient_open(&q, p, 0, 10), 0);
  assert_int_equal(nfds(), fds0 + 4);
  assert_true(q.pid > 0);
  /* the parent's four ends are close-on-exec */
  assert_true(fcntl(q.msgfd, F_GETFD) & FD_CLOEXEC);
  assert_true(fcntl(q.envfd, F_GETFD) & FD_CLOEXEC);
  assert_true(fcntl(q.errfd, F_GETFD) & FD_CLOEXEC);
  assert_true(fcntl(q.txtfd, F_GETFD) & FD_CLOEXEC);
  /* pieces of every size: small ones buffered, big ones past the buffer */
  for (size_t k = 1; sent < sizeof big; k = k * 3 + 1) {
    size_t m = k > sizeof big - sent ? sizeof big - sent : k;
    assert_int_equal(qclient_write(&q, big + sent, m), 0);
    sent += m;
  }
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), 0);
  assert_true(WIFEXITED(q.status) && WEXITSTATUS(q.status) == 0);
  assert_int_equal(q.pid, 0);
  assert_int_equal(q.msgfd, -1);
  assert_int_equal(q.errfd, -1);
  assert_int_equal(nfds(), fds0);   /* nothing left open */
  assert_string_equal(q.id, "");
  assert_string_equal(q.text, "");
  got = slurp("msg", &n);
  assert_int_equal(n, sizeof big);
  assert_memory_equal(got, big, sizeof big);
  got = slurp("env", &n);
  assert_int_equal(n, ENV1LEN);
  assert_memory_equal(got, env1, ENV1LEN);
  qclient_abort(&q);   /* after close: a no-op */
  assert_int_equal(q.pid, 0);
}

/* the pipes land on 0, 1, 2 and 6 even when the parent's own fd 0 is
   closed (pipe() then hands out 0 for one of them) */
static void t_lowfds(void **st)
{
  struct qclient q;
  const char *p = prog("low", READS_BOTH "printf 'Zlow\\n' >&6; exit 82");
  size_t n;
  int save = dup(0);
  (void)st;
  assert_true(save > 0);
  close(0);
  assert_int_equal(qclient_open(&q, p, 0, 10), 0);
  assert_int_equal(dup2(save, 0), 0);
  close(save);
  assert_int_equal(qclient_write(&q, "hi\n", 3), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_CUSTOM);
  assert_string_equal(q.text, "low");
  slurp("msg", &n);
  assert_int_equal(n, 3);
  slurp("env", &n);
  assert_int_equal(n, ENV1LEN);
}

static void t_codes(void **st)
{
  static const int codes[] = { QQ_WRITE, QQ_PERM_REFUSED, QQ_ENVELOPE, 111 };
  struct qclient q;
  int perm;
  (void)st;
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    char body[64];
    snprintf(body, sizeof body, READS_BOTH "exit %d", codes[i]);
    assert_int_equal(qclient_open(&q, prog("code", body), 0, 10), 0);
    assert_int_equal(qclient_write(&q, "x\n", 2), 0);
    assert_int_equal(qclient_close(&q, env1, ENV1LEN), codes[i]);
  }
  assert_string_equal(qclient_describe(&q, QQ_WRITE, &perm), "qq write error or disk full (#4.3.0)");
  assert_int_equal(perm, 0);
  assert_string_equal(qclient_describe(&q, QQ_PERM_REFUSED, &perm), "mail server permanently refuses to send the message (#5.3.0)");
  assert_int_equal(perm, 1);
  assert_string_equal(qclient_describe(&q, 111, &perm), "cannot reach the queue socket (#4.3.0)");
  assert_int_equal(perm, 0);
}

static void t_custom(void **st)
{
  struct qclient q;
  int perm;
  (void)st;
  assert_int_equal(qclient_open(&q, prog("d", READS_BOTH "echo 'noise' >&2; printf 'Dgo away\\n' >&6; exit 82"), 0, 10), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_CUSTOM);
  assert_string_equal(q.text, "go away");
  assert_int_equal(q.textperm, 1);
  assert_string_equal(qclient_describe(&q, QQ_CUSTOM, &perm), "go away");
  assert_int_equal(perm, 1);

  assert_int_equal(qclient_open(&q, prog("z", READS_BOTH "printf 'Ztry later' >&6; exit 82"), 0, 10), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_CUSTOM);
  assert_string_equal(q.text, "try later");
  assert_int_equal(q.textperm, 0);
  assert_string_equal(qclient_describe(&q, QQ_CUSTOM, &perm), "try later");
  assert_int_equal(perm, 0);

  /* 82 with nothing on fd 6: the table's words */
  assert_int_equal(qclient_open(&q, prog("e", READS_BOTH "exit 82"), 0, 10), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_CUSTOM);
  assert_string_equal(q.text, "");
  assert_string_equal(qclient_describe(&q, QQ_CUSTOM, &perm), "qq temporary problem (#4.3.0)");
  assert_int_equal(perm, 0);
}

static void t_id(void **st)
{
  struct qclient q;
  (void)st;
  assert_int_equal(qclient_open(&q, prog("id", READS_BOTH "printf 'msg 12 qp 34\\n' >&2; exit 0"), QCLIENT_WANTID, 10), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), 0);
  assert_string_equal(q.id, "msg 12 qp 34");
  assert_string_equal(q.text, "");

  assert_int_equal(qclient_open(&q, prog("junk", READS_BOTH "printf 'oops\\001\\n\\377x\\n\\n' >&2; exit 0"), QCLIENT_WANTID, 10), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), 0);
  assert_string_equal(q.id, "");
  assert_string_equal(q.text, "oops? ?x");

  /* much more than fits a pipe, before reading anything: read while waiting */
  assert_int_equal(qclient_open(&q, prog("chatty", "head -c 200000 /dev/zero | tr '\\0' e >&2; " READS_BOTH "exit 0"), 0, 10), 0);
  assert_int_equal(qclient_write(&q, "x\n", 2), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), 0);
  assert_int_equal(strlen(q.text), QCLIENT_TEXTMAX - 1);
  assert_int_equal(q.text[0], 'e');
}

/* no program: the queue socket HOME/sock/queue itself (tern-queued; the
   protocol is tested in common-qproto-test and against a real server in
   tests/integration/20-queue-badinput.t). Here: a socket that is not there
   is code 111, "cannot reach the queue socket", no child, no descriptor
   left. Skipped where HOME/sock/queue exists (a real installation). */
static void t_socket(void **st)
{
  struct qclient q;
  char fn[4200];
  int fds0 = nfds(), perm;
  (void)st;
  snprintf(fn, sizeof fn, "%s/sock/queue", home_get());
  if (access(fn, F_OK) == 0) { skip(); return; }
  assert_int_equal(qclient_open(&q, 0, QCLIENT_WANTID, 10), 0);
  assert_int_equal(q.pid, 0);
  assert_int_not_equal(q.sockerr, 0);
  assert_int_equal(qclient_write(&q, "x\n", 2), -1);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), 111);
  assert_true(WIFEXITED(q.status) && WEXITSTATUS(q.status) == 111);
  assert_non_null(strstr(qclient_describe(&q, 111, &perm), "cannot reach the queue socket"));
  assert_int_equal(perm, 0);
  assert_int_equal(nfds(), fds0);
  assert_int_equal(qclient_open(&q, "", 0, 10), 0);   /* "" is no program too */
  assert_int_equal(q.pid, 0);
  qclient_abort(&q);
  qclient_abort(&q);                                  /* idempotent */
  assert_int_equal(nfds(), fds0);
}

/* a program that never reads: the deadline ends it, killed */
static void t_timeout(void **st)
{
  static char big[1 << 20];
  struct qclient q;
  struct timespec t0;
  pid_t pid;
  int fds0 = nfds();
  (void)st;
  memset(big, 'x', sizeof big);
  /* stuck while the message is written */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(qclient_open(&q, prog("sleep", "exec sleep 30"), 0, 1), 0);
  pid = q.pid;
  assert_int_equal(qclient_write(&q, big, sizeof big), -1);
  assert_int_equal(q.werr, ETIMEDOUT);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_TIMEOUT);
  assert_true(since(&t0) < 3.0);
  assert_true(WIFSIGNALED(q.status) && WTERMSIG(q.status) == SIGKILL);
  assert_int_equal(kill(pid, 0), -1);   /* killed and reaped */
  assert_int_equal(errno, ESRCH);
  /* everything written (it fits the pipes), stuck before exiting */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(qclient_open(&q, prog("sleep", "exec sleep 30"), 0, 1), 0);
  pid = q.pid;
  assert_int_equal(qclient_write(&q, "x\n", 2), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_TIMEOUT);
  assert_true(since(&t0) < 3.0);
  assert_int_equal(kill(pid, 0), -1);
  assert_int_equal(nfds(), fds0);
  /* no deadline: a program that exits is waited for */
  assert_int_equal(qclient_open(&q, prog("slow", READS_BOTH "sleep 1; exit 0"), 0, 0), 0);
  assert_int_equal(q.deadline, 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), 0);
}

/* a program that exits before reading: a write error, not a SIGPIPE death */
static void t_early_exit(void **st)
{
  static char big[1 << 20];
  struct qclient q;
  (void)st;
  memset(big, 'x', sizeof big);
  assert_int_equal(qclient_open(&q, prog("exit0", "exit 0"), 0, 10), 0);
  assert_int_equal(qclient_write(&q, big, sizeof big), -1);
  assert_int_equal(q.werr, EPIPE);
  assert_int_equal(qclient_write(&q, "x", 1), -1);   /* sticky */
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_WRITE);
  assert_true(WIFEXITED(q.status) && WEXITSTATUS(q.status) == 0);
  /* the program's own failure wins over the write error */
  assert_int_equal(qclient_open(&q, prog("exit54", "exit 54"), 0, 10), 0);
  assert_int_equal(qclient_write(&q, big, sizeof big), -1);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_READ);
  assert_int_equal(qclient_open(&q, prog("exit31", "exit 31"), 0, 10), 0);
  assert_int_equal(qclient_write(&q, big, sizeof big), -1);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_PERM_REFUSED);
  /* a signal is a bug */
  assert_int_equal(qclient_open(&q, prog("kill", READS_BOTH "kill -9 $$"), 0, 10), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_BUG);
  assert_true(WIFSIGNALED(q.status) && WTERMSIG(q.status) == SIGKILL);
}

static void t_cantrun(void **st)
{
  struct qclient q;
  int perm;
  char fn[128];
  (void)st;
  snprintf(fn, sizeof fn, "%s/no-such-program", dir);
  assert_int_equal(qclient_open(&q, fn, 0, 10), 0);
  assert_int_equal(qclient_write(&q, "x\n", 2), 0);
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_CANTRUN);
  assert_string_equal(qclient_describe(&q, QQ_CANTRUN, &perm), "unable to run qq (#4.3.0)");
  assert_int_equal(perm, 0);
}

/* abort: the program sees EOF on both and an empty envelope */
static void t_abort(void **st)
{
  struct qclient q;
  size_t n;
  (void)st;
  unlink("env");
  assert_int_equal(qclient_open(&q, prog("abort", READS_BOTH "echo done >\"$D/done\"; exit 91"), 0, 10), 0);
  assert_int_equal(qclient_write(&q, "part of a message\n", 18), 0);
  qclient_abort(&q);
  assert_int_equal(q.pid, 0);
  assert_int_equal(q.msgfd, -1);
  assert_int_equal(q.envfd, -1);
  slurp("env", &n);
  assert_int_equal(n, 0);
  slurp("done", &n);
  assert_int_equal(n, 5);
  assert_int_equal(q.errfd, -1);
  assert_int_equal(q.txtfd, -1);
  qclient_abort(&q);    /* idempotent */
  memset(&q, 0, sizeof q);
  qclient_abort(&q);    /* a zeroed struct */
  assert_int_equal(qclient_close(&q, env1, ENV1LEN), QQ_BUG);
}

static void t_parseid(void **st)
{
  static const struct { const char *s; int ok; } rows[] = {
    { "msg 12 qp 34\n", 1 }, { "msg 0 qp 0\n", 1 },
    { "msg 12 qp 34", 0 }, { "msg 12 qp 34\n\n", 0 }, { "msg 12 qp 34 \n", 0 },
    { "msg  qp 34\n", 0 }, { "msg 12 qp \n", 0 }, { "msg 12 qp\n", 0 }, { "msg 12\n", 0 },
    { "MSG 12 qp 34\n", 0 }, { "msg 1a qp 34\n", 1 }, { "msg 1A qp 34\n", 0 }, { "msg 1m8vf7k0g3a2h4c qp 34\n", 1 }, { "msg 1-a qp 34\n", 0 }, { "msg 12  qp 34\n", 0 },
    { "msg -1 qp 34\n", 0 }, { "x msg 12 qp 34\n", 0 }, { "msg\n", 0 }, { "\n", 0 }, { "", 0 },
  };
  char id[QCLIENT_IDMAX], s[128];
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = strlen(rows[i].s);
    memset(id, 'x', sizeof id);
    assert_int_equal(qclient_parseid(id, rows[i].s, n), rows[i].ok);
    if (rows[i].ok) { assert_memory_equal(id, rows[i].s, n - 1); assert_int_equal(id[n - 1], 0); }
    else assert_string_equal(id, "");
  }
  assert_int_equal(qclient_parseid(id, "msg 1\0 qp 2\n", 12), 0);
  /* the limit: 63 bytes with the LF fit, 64 do not */
  for (size_t len = 62; len <= 65; len++) {
    size_t k = 0;
    memcpy(s, "msg ", 4); k = 4;
    while (k < len - 6) s[k++] = '7';
    memcpy(s + k, " qp 9\n", 6);
    assert_int_equal(qclient_parseid(id, s, len), len < QCLIENT_IDMAX);
    if (len < QCLIENT_IDMAX) assert_int_equal(strlen(id), len - 1);
  }
}

static void t_settext(void **st)
{
  struct qclient q;
  char big[1000];
  (void)st;
  memset(&q, 0, sizeof q);
  qclient_settext(&q, 0, "msg 5 qp 6\n", 11, "", 0);
  assert_string_equal(q.id, "msg 5 qp 6");
  assert_string_equal(q.text, "");
  qclient_settext(&q, QQ_WRITE, "s6-sudo: fatal:\tno\r\n", 20, "Dignored", 8);
  assert_string_equal(q.id, "");
  assert_string_equal(q.text, "s6-sudo: fatal: no");
  assert_int_equal(q.textperm, 0);
  qclient_settext(&q, QQ_CUSTOM, "msg 5 qp 6\n", 11, "D", 1);
  assert_string_equal(q.id, "msg 5 qp 6");
  assert_string_equal(q.text, "");
  assert_int_equal(q.textperm, 1);
  qclient_settext(&q, QQ_CUSTOM, "", 0, "Xbad \x7f\x80\0end  \n", 14);
  assert_string_equal(q.text, "bad ???end");
  assert_int_equal(q.textperm, 0);
  memset(big, 'a', sizeof big);
  qclient_settext(&q, 1, big, sizeof big, "", 0);
  assert_int_equal(strlen(q.text), QCLIENT_TEXTMAX - 1);
  qclient_settext(&q, 1, "   ", 3, "", 0);
  assert_string_equal(q.text, "");
  /* diagnostic lines, then the id as the last line: both kept */
  qclient_settext(&q, 0, "filter: said\nthis\nmsg 5 qp 6\n", 29, "", 0);
  assert_string_equal(q.id, "msg 5 qp 6");
  assert_string_equal(q.text, "filter: said this");
  /* an id not on the last line is not one */
  qclient_settext(&q, 0, "msg 5 qp 6\nmore\n", 16, "", 0);
  assert_string_equal(q.id, "");
  assert_string_equal(q.text, "msg 5 qp 6 more");
  /* nor one without its line end */
  qclient_settext(&q, 0, "x\nmsg 5 qp 6", 12, "", 0);
  assert_string_equal(q.id, "");
}

/* qclient_relay's bytes on descriptor fd for code */
static char *relayed(const struct qclient *q, int code, int fd)
{
  static char got[512];
  int p[2], saved = dup(fd);
  ssize_t n;
  assert_int_equal(pipe(p), 0);
  assert_true(dup2(p[1], fd) == fd);
  close(p[1]);
  qclient_relay(q, code);
  if (saved >= 0) {   /* descriptor 6 is not open here: closed again */
    assert_true(dup2(saved, fd) == fd);
    close(saved);
  } else close(fd);
  n = read(p[0], got, sizeof got - 1);
  close(p[0]);
  got[n > 0 ? n : 0] = 0;
  return got;
}

static void t_relay(void **st)
{
  struct qclient q;
  (void)st;
  memset(&q, 0, sizeof q);
  strcpy(q.id, "msg 5 qp 6");
  assert_string_equal(relayed(&q, 0, 2), "msg 5 qp 6\n");
  strcpy(q.text, "spam");
  q.textperm = 1;
  assert_string_equal(relayed(&q, QQ_CUSTOM, 6), "Dspam");
  q.textperm = 0;
  assert_string_equal(relayed(&q, QQ_CUSTOM, 6), "Zspam");
  strcpy(q.text, "disk full");
  assert_string_equal(relayed(&q, QQ_WRITE, 2), "disk full\n");
  q.text[0] = 0;
  assert_string_equal(relayed(&q, QQ_WRITE, 2), "");
}

static int setup(void **st)
{
  (void)st;
  signal(SIGPIPE, SIG_IGN);   /* as qclient.h asks of every caller */
  strcpy(dir, "/tmp/qclient-test.XXXXXX");
  if (!mkdtemp(dir)) return -1;
  return chdir(dir);
}

static int teardown(void **st)
{
  char cmd[128];
  (void)st;
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_ok),
    cmocka_unit_test(t_lowfds),
    cmocka_unit_test(t_codes),
    cmocka_unit_test(t_custom),
    cmocka_unit_test(t_id),
    cmocka_unit_test(t_socket),
    cmocka_unit_test(t_timeout),
    cmocka_unit_test(t_early_exit),
    cmocka_unit_test(t_cantrun),
    cmocka_unit_test(t_abort),
    cmocka_unit_test(t_parseid),
    cmocka_unit_test(t_settext),
    cmocka_unit_test(t_relay),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
