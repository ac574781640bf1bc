/* send-sched-test: tern-send's pure logic (send/sched.c): classification,
   retry schedule, log-safe text, bounce paragraphs and the bounce message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "send/sched.h"

static struct ctl_list mklist(const char *s, size_t len, size_t n)
{
  struct ctl_list l;
  l.s = (char *)s; l.len = len; l.n = n;
  return l;
}

static void test_classify(void **state)
{
  static const char loc[] = "example.org\0.sub.example.net\0me.test";
  static const char vd[] = "virt.test:v1\0joe@virt2.test:joe\0.wild.test:w\0except.test:\0virt2.test:v2\0virt.test:v1b";
  struct ctl_list l = mklist(loc, sizeof loc, 3), v = mklist(vd, sizeof vd, 6), empty = mklist("", 0, 0);
  static const struct { const char *in; int res; const char *out; } t[] = {
    { "a@example.org", SCHED_LOCAL, "a@example.org" },
    { "a@EXAMPLE.Org", SCHED_LOCAL, "a@EXAMPLE.Org" },
    { "a@x.sub.example.net", SCHED_LOCAL, "a@x.sub.example.net" },
    { "a@sub.example.net", SCHED_REMOTE, "a@sub.example.net" },
    { "postmaster", SCHED_LOCAL, "postmaster@me.test" },
    { "a@b@example.org", SCHED_LOCAL, "a@b@example.org" },
    { "a@virt.test", SCHED_LOCAL, "v1b-a@virt.test" },           /* the last line wins */
    { "joe@virt2.test", SCHED_LOCAL, "joe-joe@virt2.test" },     /* user@domain first */
    { "ann@virt2.test", SCHED_LOCAL, "v2-ann@virt2.test" },
    { "x@a.b.wild.test", SCHED_LOCAL, "w-x@a.b.wild.test" },
    { "x@wild.test", SCHED_REMOTE, "x@wild.test" },
    { "x@except.test", SCHED_REMOTE, "x@except.test" },        /* empty prepend */
    { "x@remote.test", SCHED_REMOTE, "x@remote.test" },
    { "x@", SCHED_REMOTE, "x@" },
  };
  char out[SCHED_REWRITE_MAX];
  size_t ol;
  (void)state;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    int r = sched_classify(t[i].in, strlen(t[i].in), &l, &v, "me.test", out, &ol);
    assert_int_equal(r, t[i].res);
    assert_string_equal(out, t[i].out);
    assert_int_equal(ol, strlen(t[i].out));
  }
  /* catch-all and too long */
  {
    static const char ca[] = ":all";
    struct ctl_list c = mklist(ca, sizeof ca, 1);
    char big[1200];
    assert_int_equal(sched_classify("u@any.test", 10, &empty, &c, "me", out, &ol), SCHED_LOCAL);
    assert_string_equal(out, "all-u@any.test");
    memset(big, 'a', sizeof big);
    assert_int_equal(sched_classify(big, sizeof big, &empty, &c, "me", out, &ol), SCHED_TOOLONG);
    assert_int_equal(sched_classify(big, 1000, &empty, &empty, "me", out, &ol), SCHED_TOOLONG);
    assert_int_equal(sched_classify(big, 999, &empty, &empty, "m", out, &ol), SCHED_TOOLONG);
    assert_int_equal(sched_classify(big, 998, &empty, &empty, "m", out, &ol), SCHED_REMOTE);
    assert_int_equal(ol, 1000);
    big[0] = '@';
    assert_int_equal(sched_classify(big, 997, &empty, &c, "m", out, &ol), SCHED_TOOLONG);
    assert_int_equal(sched_classify(big, 996, &empty, &c, "m", out, &ol), SCHED_LOCAL);
  }
}

static void test_retry(void **state)
{
  (void)state;
  /* reference/qmail.md 4.4: attempt k at (skip*k)^2 */
  assert_int_equal(sched_nextretry(1000, 1000, 20), 1000 + 400);
  assert_int_equal(sched_nextretry(1000, 1000, 10), 1000 + 100);
  assert_int_equal(sched_nextretry(0, 400, 20), 1600);
  assert_int_equal(sched_nextretry(0, 1600, 20), 3600);
  assert_int_equal(sched_nextretry(0, 1599, 20), (39 + 20) * (39 + 20));
  assert_int_equal(sched_nextretry(0, 100, 10), 400);
  assert_int_equal(sched_nextretry(500, 100, 10), 600);   /* clock went back */
  assert_int_equal(sched_nextretry(0, 604800, 20), (777 + 20) * (777 + 20));
}

static void test_logsafe(void **state)
{
  char out[64];
  const char in[] = "ok 250\nbad\001\xff\r";
  size_t n;
  (void)state;
  n = sched_logsafe(0, in, sizeof in - 1);
  assert_int_equal(n, sizeof in - 1);
  sched_logsafe(out, in, n);
  out[n] = 0;
  assert_string_equal(out, "ok_250/bad___");
}

static void test_para(void **state)
{
  char out[128];
  size_t n;
  (void)state;
  n = sched_bounce_para(out, "a@b", 3, "no such user\n\nsecond", 20);
  out[n] = 0;
  assert_string_equal(out, "<a@b>:\nno such user\n/second\n\n");
  n = sched_bounce_para(out, "x\ny", 3, "t\n", 2);
  out[n] = 0;
  assert_string_equal(out, "<x_y>:\nt\n\n");
  assert_int_equal(sched_bounce_para(0, "x\ny", 3, "t\n", 2), n);
  n = sched_bounce_para(out, "", 0, "", 0);
  out[n] = 0;
  assert_string_equal(out, "<>:\n\n\n");
}

static void test_status(void **state)
{
  char st[16];
  static const struct { const char *in, *out; } t[] = {
    { "Sorry, no mailbox here by that name. (#5.1.1)", "5.1.1" },
    { "temp (#4.4.1) then (#5.7.1)", "5.7.1" },
    { "expired (#4.4.2)\nI'm not going to try again", "5.4.2" },
    { "none", "5.0.0" },
    { "(#5.1234.1)", "5.0.0" },
    { "(#9.1.1)", "5.0.0" },
    { "(#5.1.)", "5.0.0" },
    { "(#5..1)", "5.0.0" },
    { "(#2.0.0)", "5.0.0" },   /* class 2 is read but forced to 5 */
    { "(#5.1.1", "5.0.0" },
    { "", "5.0.0" },
  };
  (void)state;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    sched_status(t[i].in, strlen(t[i].in), st);
    if (!strcmp(t[i].in, "(#2.0.0)")) assert_string_equal(st, "5.0.0");
    else assert_string_equal(st, t[i].out);
  }
}

static char *build(const struct sched_bounce_in *b)
{
  size_t n = sched_bounce(0, b);
  char *s = malloc(n + 1);
  assert_non_null(s);
  assert_int_equal(sched_bounce(s, b), n);
  s[n] = 0;
  return s;
}

static void test_bounce(void **state)
{
  static const char fail[] = "<a@x.test>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
                             "<b@y.test>:\nRemote host said: 550 5.7.1 go away\n/more\n\n";
  static const char msg[] = "Received: x\nSubject: hi\nX-B: --tern.7\n\nbody line\n";
  struct sched_bounce_in b = { "sender@s.test", "MAILER-DAEMON", "me.test", "Sun, 1 Jan 2026 00:00:00 +0000",
                               "tern", 7, fail, sizeof fail - 1, msg, sizeof msg - 1 };
  char *s;
  (void)state;
  s = build(&b);
  assert_non_null(strstr(s, "From: MAILER-DAEMON@me.test\n"));
  assert_non_null(strstr(s, "To: <sender@s.test>\n"));
  assert_non_null(strstr(s, "Content-Type: multipart/report; report-type=delivery-status;"));
  assert_non_null(strstr(s, "Final-Recipient: rfc822; a@x.test\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: x-unix; Sorry"));
  assert_non_null(strstr(s, "Final-Recipient: rfc822; b@y.test\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; Remote"));
  assert_non_null(strstr(s, "Reporting-MTA: dns; me.test\n"));
  assert_non_null(strstr(s, "Content-Type: text/rfc822-headers\n\nReceived: x\nSubject: hi\nX-B: --tern.7\n\n--"));
  assert_null(strstr(s, "body line"));
  /* the headers hold "--tern.7": the boundary must differ */
  assert_null(strstr(s, "boundary=\"tern.7\""));
  assert_non_null(strstr(s, "boundary=\"tern.70\""));
  free(s);

  /* hostile: quoted sender with a newline, 8-bit text, no paragraphs form */
  {
    static const char f2[] = "garbage\x01\xff\nno angle\n";
    struct sched_bounce_in c = { "a b\n@x", "MAILER-DAEMON", "me.test", "D", "tern", 1, f2, sizeof f2 - 1, "", 0 };
    s = build(&c);
    assert_null(strstr(s, "\x01"));
    assert_null(strstr(s, "\xff"));
    assert_non_null(strstr(s, "Final-Recipient: rfc822; unknown\n"));
    assert_non_null(strstr(s, "To: <\"a b "));
    free(s);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_classify),
    cmocka_unit_test(test_retry),
    cmocka_unit_test(test_logsafe),
    cmocka_unit_test(test_para),
    cmocka_unit_test(test_status),
    cmocka_unit_test(test_bounce),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
