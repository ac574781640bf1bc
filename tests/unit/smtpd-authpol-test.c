/* smtpd-authpol-test: the policies around SMTP AUTH in tern-smtpd: whose
   envelope senders a user may use (smtpd/authsender.c), the failure
   counters (smtpd/authfail.c: names, delays, files in a temporary
   directory), the checker's command line (smtpd/authrun.c authrun_split)
   and running a checker (exit 0, 1, other, a hang). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/checkpw.h"
#include "smtpd/authfail.h"
#include "smtpd/authrun.h"
#include "smtpd/authsender.h"

static struct ctl_list list(const char *s, size_t len, size_t n)
{
  struct ctl_list l;
  l.s = (char *)s;
  l.len = len;
  l.n = n;
  return l;
}

static int okS(const struct ctl_list *m, const struct ctl_list *loc, const char *u, const char *s)
{
  return authsender_ok(m, loc, u, s, strlen(s));
}

static void t_sender(void **st)
{
  static const char map[] = "bob@demo.test:other@example.org\0alice:@Lists.Demo.Test\0eve:\0";
  static const char loc[] = "demo.test\0.sub.test\0other.test\0";
  struct ctl_list m = list(map, sizeof map - 1, 3), l = list(loc, sizeof loc - 1, 3), empty = list("", 0, 0);
  (void)st;
  assert_true(okS(&m, &l, "bob@demo.test", "bob@demo.test"));
  assert_true(okS(&m, &l, "bob@demo.test", "bob@DEMO.test"));
  assert_true(okS(&m, &l, "bob@demo.test", "other@example.org"));
  assert_true(okS(&m, &l, "bob@demo.test", ""));              /* <> */
  assert_false(okS(&m, &l, "bob@demo.test", "bob@other.test"));
  assert_false(okS(&m, &l, "bob@demo.test", "x@example.org"));
  assert_false(okS(&m, &l, "bob", "other@example.org"));      /* user names compare exactly */
  assert_true(okS(&m, &l, "alice", "alice@demo.test"));
  assert_true(okS(&m, &l, "alice", "alice@other.test"));
  assert_false(okS(&m, &l, "alice", "alice@x.sub.test"));     /* a .suffix names no domain */
  assert_false(okS(&m, &l, "alice", "alicex@demo.test"));
  assert_false(okS(&m, &l, "alice", "Alice@demo.test"));      /* the local part is the user name */
  assert_true(okS(&m, &l, "alice", "news@lists.demo.test"));
  assert_true(okS(&m, &l, "alice", "a@b@lists.demo.test"));   /* the last '@' */
  assert_false(okS(&m, &l, "alice", "news@xlists.demo.test"));
  assert_false(okS(&m, &l, "eve", "eve@example.org"));
  assert_false(okS(&m, &l, "eve", "@"));
  assert_false(okS(&empty, &empty, "alice", "alice@demo.test"));
  assert_true(okS(0, 0, "bob@demo.test", "bob@demo.test"));
}

static void t_failnames(void **st)
{
  char n[AUTHFAIL_NAME], n2[AUTHFAIL_NAME];
  struct authfail f;
  (void)st;
  authfail_name(n, "ip", "127.0.0.3");
  assert_string_equal(n, "ip-127.0.0.3");
  authfail_name(n, "ip", "2001:db8::1");
  assert_string_equal(n, "ip-2001:db8::1");
  authfail_name(n, "ip", "../../etc");
  assert_int_equal(strlen(n), 3 + 16);
  assert_null(strchr(n, '/'));
  authfail_name(n, "user", "bob@demo.test");
  authfail_name(n2, "user", "bob@demo.tesT");
  assert_int_equal(strlen(n), 5 + 16);
  assert_string_not_equal(n, n2);
  f.ip = 0; f.user = 0;
  assert_int_equal(authfail_delay(&f, 5), 0);
  f.ip = 3;
  assert_int_equal(authfail_delay(&f, 5), 0);
  f.ip = 4;
  assert_int_equal(authfail_delay(&f, 5), 1);
  f.user = 7;
  assert_int_equal(authfail_delay(&f, 5), 4);
  f.user = 1000;
  assert_int_equal(authfail_delay(&f, 5), 5);
}

static void t_failfiles(void **st)
{
  char dir[] = "/tmp/tern-authfail.XXXXXX", p[200];
  struct authfail f;
  (void)st;
  assert_non_null(mkdtemp(dir));
  authfail_get(dir, "127.0.0.3", "bob", 3600, &f);
  assert_int_equal(f.ip, 0);
  assert_int_equal(f.user, 0);
  for (int i = 1; i <= 5; i++) {
    authfail_add(dir, "127.0.0.3", "bob", 3600, &f);
    assert_int_equal(f.ip, (unsigned long)i);
    assert_int_equal(f.user, (unsigned long)i);
  }
  authfail_add(dir, "127.0.0.4", "bob", 3600, &f);
  assert_int_equal(f.ip, 1);
  assert_int_equal(f.user, 6);
  authfail_get(dir, "127.0.0.3", 0, 3600, &f);
  assert_int_equal(f.ip, 5);
  assert_int_equal(f.user, 0);
  /* an attempt counted before its check and taken back (it succeeded) */
  authfail_add(dir, "127.0.0.3", "bob", 3600, &f);
  assert_int_equal(f.ip, 6);
  authfail_undo(dir, "127.0.0.3", "bob", 3600);
  authfail_get(dir, "127.0.0.3", "bob", 3600, &f);
  assert_int_equal(f.ip, 5);
  assert_int_equal(f.user, 6);
  authfail_undo(dir, "127.0.0.9", 0, 3600);   /* never below 0 */
  authfail_get(dir, "127.0.0.9", 0, 3600, &f);
  assert_int_equal(f.ip, 0);
  authfail_clear(dir, "bob");
  authfail_get(dir, "127.0.0.3", "bob", 3600, &f);
  assert_int_equal(f.ip, 5);     /* the address keeps its count */
  assert_int_equal(f.user, 0);
  /* an old count is no count: make the file a day old */
  snprintf(p, sizeof p, "touch -d '1 day ago' %s/ip-127.0.0.3", dir);
  assert_int_equal(system(p), 0);
  authfail_get(dir, "127.0.0.3", 0, 3600, &f);
  assert_int_equal(f.ip, 0);
  authfail_add(dir, "127.0.0.3", 0, 3600, &f);
  assert_int_equal(f.ip, 1);
  /* no directory: no counting, no crash */
  authfail_add("/nonexistent/tern", "127.0.0.3", "bob", 3600, &f);
  assert_int_equal(f.ip, 0);
  snprintf(p, sizeof p, "rm -rf %s", dir);
  assert_int_equal(system(p), 0);
}

static void t_split(void **st)
{
  char a[] = "  /usr/bin/s6-sudo -e\t/var/tern/sock/auth  ", b[] = "bin/relative arg", c[] = "   ";
  char e[] = "s6-sudo -e -t 10000 /var/tern/sock/auth";
  char d[200] = "/x";
  char *argv[AUTHRUN_ARGS + 1];
  (void)st;
  assert_true(authrun_split(a, argv));
  assert_string_equal(argv[0], "/usr/bin/s6-sudo");
  assert_string_equal(argv[1], "-e");
  assert_string_equal(argv[2], "/var/tern/sock/auth");
  assert_null(argv[3]);
  assert_false(authrun_split(b, argv));
  assert_true(authrun_split(e, argv));    /* a name in PATH */
  assert_string_equal(argv[0], "s6-sudo");
  assert_string_equal(argv[4], "/var/tern/sock/auth");
  assert_false(authrun_split(c, argv));
  for (int i = 0; i < AUTHRUN_ARGS; i++) strcat(d, " y");
  assert_false(authrun_split(d, argv));   /* 17 words */
}

static int run(const char *script)
{
  char *argv[] = { "sh", "-c", (char *)script, 0 };   /* found in PATH */
  char req[CHECKPW_REQ_MAX];
  size_t n = checkpw_format(req, "bob", 3, "pw", 2, "<1@x>");
  return authrun(argv, req, n, 2);
}

static void t_run(void **st)
{
  (void)st;
  /* the request on fd 3 and on fd 0, the same bytes */
  assert_int_equal(run("test \"$(head -c 3 <&3)\" = bob && exit 0; exit 1"), CHECKPW_OK);
  assert_int_equal(run("test \"$(head -c 3)\" = bob && exit 0; exit 1"), CHECKPW_OK);
  assert_int_equal(run("test \"$(tr '\\0' : <&3)\" = 'bob:pw:<1@x>:' && exit 0; exit 1"), CHECKPW_OK);
  assert_int_equal(run("exit 1"), CHECKPW_BAD);
  assert_int_equal(run("exit 111"), CHECKPW_TEMP);
  assert_int_equal(run("exit 2"), CHECKPW_TEMP);
  assert_int_equal(run("kill -9 $$"), CHECKPW_TEMP);
  assert_int_equal(dup2(1, 9), 9);
  assert_int_equal(run("[ -e /proc/$$/fd/9 ] && exit 1; exit 0"), CHECKPW_OK);   /* nothing above 3 */
  close(9);
  assert_int_equal(run("sleep 10; exit 0"), CHECKPW_TEMP);                            /* 2 s, then killed */
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(t_sender), cmocka_unit_test(t_failnames), cmocka_unit_test(t_failfiles),
    cmocka_unit_test(t_split), cmocka_unit_test(t_run),
  };
  return cmocka_run_group_tests_name("smtpd-authpol", t, 0, 0);
}
