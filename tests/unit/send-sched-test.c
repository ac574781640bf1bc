/* send-sched-test: tern-send's pure logic (send/sched.c): classification,
   retry schedule, log-safe text, bounce paragraphs and the bounce message,
   a message's origin and control/bouncebody. */
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
  size_t ol, pl;
  struct sched_ctl x = { &l, &v, &empty, "me.test" };
  (void)state;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    int r = sched_classify(t[i].in, strlen(t[i].in), &x, out, &ol, &pl);
    assert_int_equal(r, t[i].res);
    assert_string_equal(out, t[i].out);
    assert_int_equal(ol, strlen(t[i].out));
    /* what bounces show: the prepend stripped */
    if (r == SCHED_LOCAL && strchr(t[i].in, '@') && strchr(t[i].out, '-') && strcmp(t[i].in, t[i].out))
      assert_string_equal(out + pl, t[i].in);
    else assert_int_equal(pl, 0);
  }
  /* percenthack: only for listed domains, last '%' first, repeatable */
  {
    static const char ph[] = "relay.test\0example.org";
    struct ctl_list p = mklist(ph, sizeof ph, 2);
    struct sched_ctl y = { &l, &v, &p, "me.test" };
    assert_int_equal(sched_classify("u%h.test@relay.test", 19, &y, out, &ol, &pl), SCHED_REMOTE);
    assert_string_equal(out, "u@h.test");
    assert_int_equal(sched_classify("u%virt.test%relay.test@RELAY.test", 33, &y, out, &ol, &pl), SCHED_LOCAL);
    assert_string_equal(out, "v1b-u@virt.test");
    assert_string_equal(out + pl, "u@virt.test");
    assert_int_equal(sched_classify("u%h.test@other.test", 19, &y, out, &ol, &pl), SCHED_REMOTE);
    assert_string_equal(out, "u%h.test@other.test");
    assert_int_equal(sched_classify("u%@relay.test", 13, &y, out, &ol, &pl), SCHED_REMOTE);
    assert_string_equal(out, "u@");
    assert_int_equal(sched_classify("%%%@example.org", 15, &y, out, &ol, &pl), SCHED_REMOTE);
    assert_string_equal(out, "%%@");
    assert_int_equal(sched_classify("a%b", 3, &y, out, &ol, &pl), SCHED_LOCAL);
    assert_string_equal(out, "a%b@me.test");
  }
  /* catch-all and too long */
  {
    static const char ca[] = ":all";
    struct ctl_list c = mklist(ca, sizeof ca, 1);
    char big[1200];
    struct sched_ctl e = { &empty, &empty, &empty, "me" }, ec = { &empty, &c, &empty, "me" }, m1 = { &empty, &empty, &empty, "m" }, mc = { &empty, &c, &empty, "m" };
    assert_int_equal(sched_classify("u@any.test", 10, &ec, out, &ol, &pl), SCHED_LOCAL);
    assert_string_equal(out, "all-u@any.test");
    memset(big, 'a', sizeof big);
    assert_int_equal(sched_classify(big, sizeof big, &ec, out, &ol, &pl), SCHED_TOOLONG);
    assert_int_equal(sched_classify(big, 1000, &e, out, &ol, &pl), SCHED_TOOLONG);
    assert_int_equal(sched_classify(big, 999, &m1, out, &ol, &pl), SCHED_TOOLONG);
    assert_int_equal(sched_classify(big, 998, &m1, out, &ol, &pl), SCHED_REMOTE);
    assert_int_equal(ol, 1000);
    big[0] = '@';
    assert_int_equal(sched_classify(big, 997, &mc, out, &ol, &pl), SCHED_TOOLONG);
    assert_int_equal(sched_classify(big, 996, &mc, out, &ol, &pl), SCHED_LOCAL);
  }
}

static void test_retry(void **state)
{
  (void)state;
  /* qmail-send's schedule: attempt k at (skip*k)^2 seconds after arrival */
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
    { "temp (#4.4.1) then (#5.7.1)", "5.4.1" },
    { "mailbox disabled (#5.2.1)\nProgram delivery failed permanently (exit code 100). (#5.3.0)", "5.2.1" },
    { "h[1.2.3.4] does not like recipient.\nRemote host said: 550 5.1.1 no such user (#5.0.0)", "5.1.1" },
    { "Remote host said: 550 5.1.1", "5.1.1" },
    { "Remote host said: 550 5.1.1x (#5.7.1)", "5.7.1" },
    { "Remote host said: 550 no (#5.7.1)", "5.7.1" },
    { "Remote host said: 451 4.2.2 full", "5.2.2" },
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
                             "<b@y.test>:\nmx.y.test[192.0.2.1] does not like recipient.\nRemote host said: 550 5.7.1 go away (#5.7.1)\n/more\n\n"
                             "<c@z.test>:\nexit 111\nI'm not going to try again; this message has been in the queue too long.\n\n";
  static const char msg[] = "Received: x\nSubject: hi\n--tern.7\n\nbody line\n";
  struct sched_bounce_in b = { SCHED_KIND_FAILED, "sender@s.test", "MAILER-DAEMON", "me.test", "mta.test",
                               "Sun, 1 Jan 2026 00:00:00 +0000", "Sat, 31 Dec 2025 00:00:00 +0000", "<1.2@me.test>",
                               "tern", 7, fail, sizeof fail - 1, msg, sizeof msg - 1, sizeof msg - 1, 100 };
  char *s;
  (void)state;
  s = build(&b);
  assert_non_null(strstr(s, "From: MAILER-DAEMON@me.test\n"));
  assert_non_null(strstr(s, "To: <sender@s.test>\n"));
  assert_non_null(strstr(s, "Message-ID: <1.2@me.test>\n"));
  assert_non_null(strstr(s, "Auto-Submitted: auto-replied\n"));
  assert_non_null(strstr(s, "Content-Type: multipart/report; report-type=delivery-status;"));
  assert_non_null(strstr(s, "Reporting-MTA: dns; mta.test\nArrival-Date: Sat, 31 Dec 2025 00:00:00 +0000\n"));
  assert_non_null(strstr(s, "Final-Recipient: rfc822; a@x.test\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: x-unix; Sorry"));
  assert_non_null(strstr(s, "Final-Recipient: rfc822; b@y.test\nAction: failed\nStatus: 5.7.1\nRemote-MTA: dns; mx.y.test\nDiagnostic-Code: smtp; 550 5.7.1 go away\n"));
  assert_non_null(strstr(s, "Final-Recipient: rfc822; c@z.test\nAction: failed\nStatus: 5.4.7\n"));
  /* small: the whole message */
  assert_non_null(strstr(s, "Content-Type: message/rfc822\n\nReceived: x\nSubject: hi\n--tern.7\n\nbody line\n\n--"));
  assert_null(strstr(s, "Content-Transfer-Encoding"));
  /* a quoted line is "--tern.7": the boundary must differ */
  assert_null(strstr(s, "boundary=\"tern.7\""));
  assert_non_null(strstr(s, "boundary=\"tern.7.0\""));
  free(s);

  /* over maxbytes: the headers only */
  b.maxbytes = 10;
  s = build(&b);
  assert_non_null(strstr(s, "Content-Type: text/rfc822-headers\n\nReceived: x\nSubject: hi\n--tern.7\n\n--"));
  assert_null(strstr(s, "body line"));
  free(s);
  /* only part of it read: the headers too */
  b.maxbytes = 100;
  b.msize = 1000;
  s = build(&b);
  assert_null(strstr(s, "body line"));
  free(s);

  /* a delay warning; a double bounce; an 8-bit message */
  {
    static const char f3[] = "<d@x.test>:\nConnected to mx.x.test[2001:db8::1] but greeting failed.\nRemote host said: 451 later (#4.3.2)\n\n";
    static const char m8[] = "Subject: \xc3\xa9\n\nbody\n";
    struct sched_bounce_in d = { SCHED_KIND_DELAYED, "s@s.test", "MAILER-DAEMON", "me.test", "me.test", "D", 0, 0,
                                 "tern", 8, f3, sizeof f3 - 1, m8, sizeof m8 - 1, sizeof m8 - 1, 100000 };
    s = build(&d);
    assert_non_null(strstr(s, "Final-Recipient: rfc822; d@x.test\nAction: delayed\nStatus: 4.3.2\nRemote-MTA: dns; mx.x.test\nDiagnostic-Code: smtp; 451 later\n"));
    assert_non_null(strstr(s, "Subject: delivery delayed"));
    assert_null(strstr(s, "Arrival-Date"));
    assert_non_null(strstr(s, "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\nSubject: \xc3\xa9\n"));
    free(s);
    d.kind = SCHED_KIND_DOUBLE;
    s = build(&d);
    assert_non_null(strstr(s, "but the bounce bounced!"));
    assert_non_null(strstr(s, "Action: failed\nStatus: 5.3.2\n"));
    free(s);
  }

  /* hostile: quoted sender with a newline, 8-bit text, no paragraphs form */
  {
    static const char f2[] = "garbage\x01\xff\nno angle\n";
    struct sched_bounce_in c = { SCHED_KIND_FAILED, "a b\n@x", "MAILER-DAEMON", "me.test", "me.test", "D", 0, 0,
                                 "tern", 1, f2, sizeof f2 - 1, "", 0, 0, 100 };
    s = build(&c);
    assert_null(strstr(s, "\x01"));
    assert_null(strstr(s, "\xff"));
    assert_non_null(strstr(s, "Final-Recipient: rfc822; unknown\n"));
    assert_non_null(strstr(s, "To: <\"a b "));
    free(s);
  }
}

static void test_hours(void **state)
{
  unsigned long v;
  (void)state;
  assert_int_equal(sched_hours("4", &v), 1); assert_int_equal(v, 14400);
  assert_int_equal(sched_hours("0.5", &v), 1); assert_int_equal(v, 1800);
  assert_int_equal(sched_hours("0.001", &v), 1); assert_int_equal(v, 3);
  assert_int_equal(sched_hours("0.00001", &v), 1); assert_int_equal(v, 1);
  assert_int_equal(sched_hours("0", &v), 1); assert_int_equal(v, 0);
  assert_int_equal(sched_hours("1.", &v), 1); assert_int_equal(v, 3600);
  assert_int_equal(sched_hours(".25", &v), 1); assert_int_equal(v, 900);
  assert_int_equal(sched_hours("", &v), 0);
  assert_int_equal(sched_hours(".", &v), 0);
  assert_int_equal(sched_hours("1h", &v), 0);
  assert_int_equal(sched_hours("-1", &v), 0);
  assert_int_equal(sched_hours("100001", &v), 0);
  assert_int_equal(sched_hours("99999999999999999999999", &v), 0);
  assert_int_equal(sched_hours("1.123456789123456789", &v), 1); assert_int_equal(v, 4044);
}

static void test_mta(void **state)
{
  const char *n;
  size_t l;
  (void)state;
  assert_int_equal(sched_remote_mta("no host here", 12, &n, &l), 0);
  assert_int_equal(sched_remote_mta("x\nh.test[1.2.3.4] said", 22, &n, &l), 1);
  assert_int_equal(l, 6); assert_memory_equal(n, "h.test", 6);
  assert_int_equal(sched_remote_mta("h[", 2, &n, &l), 0);
  assert_int_equal(sched_remote_mta("h[1.2", 5, &n, &l), 0);
  assert_int_equal(sched_remote_mta("[1.2.3.4]", 9, &n, &l), 0);
  assert_int_equal(sched_remote_mta("h[zz]", 5, &n, &l), 0);
}

#define S(x) x, sizeof x - 1

static void test_jrec(void **state)
{
  char r[SCHED_JREC_MAX];
  const char *q;
  size_t ql;
  uint64_t v = 7;
  (void)state;
  assert_int_equal(sched_jrec_fmt(r, 'D', "1nhbxsdcmpjap6bd", 12), 22);
  assert_memory_equal(r, "D1nhbxsdcmpjap6bd 12;", 22);
  assert_int_equal(sched_jrec_parse('D', r + 1, 20, &q, &ql, &v), 1);
  assert_true(q == r + 1 && ql == 16 && v == 12);
  assert_int_equal(sched_jrec_fmt(r, 'L', "123456789012345678901234", UINT64_MAX), SCHED_JREC_MAX);
  assert_int_equal(sched_jrec_parse('L', r + 1, SCHED_JREC_MAX - 2, &q, &ql, &v), 1);
  assert_true(ql == 24 && v == UINT64_MAX);
  assert_int_equal(sched_jrec_parse('R', S("q 0;"), &q, &ql, &v), 1);
  assert_true(v == 0 && ql == 1);
  /* every prefix of a record (a torn write, zeros after it) is refused */
  sched_jrec_fmt(r, 'D', "1nhbxsdcmpjap6bd", 1234);
  for (size_t l = 1; l < strlen(r + 1); l++) assert_int_equal(sched_jrec_parse('D', r + 1, l, &q, &ql, &v), 0);
  assert_int_equal(sched_jrec_parse('D', r + 1, strlen(r + 1), &q, &ql, &v), 1);
  assert_int_equal(sched_jrec_parse('X', S("q 1;"), &q, &ql, &v), 0);        /* type */
  assert_int_equal(sched_jrec_parse('D', S("q 1"), &q, &ql, &v), 0);         /* no ; */
  assert_int_equal(sched_jrec_parse('D', S(" 1;"), &q, &ql, &v), 0);         /* no qid */
  assert_int_equal(sched_jrec_parse('D', S("q ;"), &q, &ql, &v), 0);         /* no digits */
  assert_int_equal(sched_jrec_parse('D', S("q 1x;"), &q, &ql, &v), 0);
  assert_int_equal(sched_jrec_parse('D', S("q -1;"), &q, &ql, &v), 0);
  assert_int_equal(sched_jrec_parse('D', S("q 18446744073709551616;"), &q, &ql, &v), 0);   /* overflow */
  assert_int_equal(sched_jrec_parse('D', S("1234567890123456789012345 1;"), &q, &ql, &v), 0);  /* qid over 24 */
  assert_int_equal(sched_jrec_parse('D', S("q; 1;"), &q, &ql, &v), 0);
  assert_int_equal(sched_jrec_parse('D', S("q 1 2;"), &q, &ql, &v), 0);
  assert_int_equal(sched_jrec_parse('D', S(";"), &q, &ql, &v), 0);
}

static void test_idmap(void **state)
{
  struct sched_idmap m;
  static size_t ref[5000];
  unsigned long x = 12345;
  (void)state;
  memset(&m, 0, sizeof m);
  assert_int_equal(sched_idmap_get(&m, 1, &ref[0]), 0);
  sched_idmap_del(&m, 1);
  for (size_t i = 0; i < 5000; i++) ref[i] = (size_t)-1;
  /* random puts and deletes on a small key space (long probe runs), checked
     against a plain array */
  for (int round = 0; round < 200000; round++) {
    size_t v;
    uint64_t id;
    x = x * 1103515245 + 12345;
    id = (x >> 8) % 5000;
    if ((x >> 4) & 1) { assert_int_equal(sched_idmap_put(&m, id * 64, (size_t)round), 1); ref[id] = (size_t)round; }
    else { sched_idmap_del(&m, id * 64); ref[id] = (size_t)-1; }
    if (!(round % 1000))
      for (size_t k = 0; k < 5000; k++) {
        int r = sched_idmap_get(&m, k * 64, &v);
        assert_int_equal(r, ref[k] != (size_t)-1);
        if (r) assert_int_equal(v, ref[k]);
      }
  }
  {
    size_t n = 0, v;
    for (size_t k = 0; k < 5000; k++) if (ref[k] != (size_t)-1) { n++; assert_int_equal(sched_idmap_get(&m, k * 64, &v), 1); assert_int_equal(v, ref[k]); }
    assert_int_equal(m.n, n);
  }
  sched_idmap_free(&m);
}

/* the origin of a message from its trace header: one row per case */
#define QL(uid) "Received: (tern 123 invoked by uid " uid "); Sun, 6 Dec 2026 21:00:00 +0000\n"
#define SL(proto) "Received: from helo.test ([127.0.0.2])\n\tby me.test (tern-smtpd) with " proto " id 1.2.3\n\tfor <a@me.test>; Sun, 6 Dec 2026 21:00:00 +0000\n"
static void test_origin(void **state)
{
  static const struct { const char *m; int more; int want; } rows[] = {
    { QL("1000") "Subject: x\n\nbody\n", 0, SCHED_ORIGIN_LOCAL },
    { QL("0") "\nbody\n", 0, SCHED_ORIGIN_LOCAL },
    { QL("1000") "Subject: x\n", 0, SCHED_ORIGIN_LOCAL },                  /* no body, no empty line */
    { QL("1000") "Subject: x\r\n\r\nbody\n", 0, SCHED_ORIGIN_LOCAL },
    { QL("995") SL("ESMTP") "Subject: x\n\nbody\n", 0, SCHED_ORIGIN_SMTP },
    { QL("995") SL("SMTP") "\nbody\n", 0, SCHED_ORIGIN_SMTP },
    { QL("995") SL("UTF8SMTP") "\nbody\n", 0, SCHED_ORIGIN_SMTP },
    { QL("995") SL("ESMTPS") "\nbody\n", 0, SCHED_ORIGIN_SMTP },
    { QL("995") SL("ESMTPA") "\nbody\n", 0, SCHED_ORIGIN_AUTH },
    { QL("995") SL("ESMTPSA") "\nbody\n", 0, SCHED_ORIGIN_AUTH },
    { QL("995") SL("UTF8SMTPA") "\nbody\n", 0, SCHED_ORIGIN_AUTH },
    { QL("995") SL("UTF8SMTPSA") "\nbody\n", 0, SCHED_ORIGIN_AUTH },
    { QL("995") SL("ESMTPSAX") "\nbody\n", 0, SCHED_ORIGIN_SMTP },
    /* inside TLS: tern-smtpd's "(using ...)" line before "by" */
    { QL("995") "Received: from h ([1.2.3.4])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
      "\tby me.test (tern-smtpd) with ESMTPSA id 1; d\n\nb\n", 0, SCHED_ORIGIN_AUTH },
    { QL("995") "Received: from h ([1.2.3.4])\n\t(using TLSv1.3 with cipher X (256/256 bits))\n"
      "\tby me.test (tern-smtpd) with ESMTPS id 1; d\n\nb\n", 0, SCHED_ORIGIN_SMTP },
    { QL("995") "Received: from h ([1.2.3.4])\n\t(using a)\n\t(using b)\n"
      "\tby me.test (tern-smtpd) with ESMTPSA id 1; d\n\nb\n", 0, SCHED_ORIGIN_SMTP },   /* one TLS line only */
    /* a forward by tern-local of an outsider's message: still SMTP */
    { QL("1000") "Delivered-To: a@me.test\n" QL("995") SL("ESMTP") "Subject: x\n\nb\n", 0, SCHED_ORIGIN_SMTP },
    { QL("1000") "Delivered-To: a@me.test\n" QL("995") SL("ESMTPSA") "Subject: x\n\nb\n", 0, SCHED_ORIGIN_AUTH },
    /* the client forges lines below tern's: never more trusted */
    { QL("995") SL("ESMTP") SL("ESMTPSA") "\nb\n", 0, SCHED_ORIGIN_SMTP },
    { QL("995") SL("ESMTP") QL("1000") "\nb\n", 0, SCHED_ORIGIN_SMTP },
    { QL("995") SL("ESMTPSA") QL("995") "Subject: x\n\nb\n", 0, SCHED_ORIGIN_SMTP },
    { QL("995") SL("ESMTPSA") QL("995") SL("ESMTP") "\nb\n", 0, SCHED_ORIGIN_SMTP },
    { QL("1000") QL("995") "\nb\n", 0, SCHED_ORIGIN_SMTP },              /* no tern-smtpd line */
    /* a HELO that spells the clause stays on the first line */
    { QL("995") "Received: from x(tern-smtpd)with ESMTPSA ([127.0.0.2])\n\tby me.test (tern-smtpd) with ESMTP id 1\n\nb\n", 0, SCHED_ORIGIN_SMTP },
    /* another Received field in between: not tern-smtpd's */
    { QL("995") "Received: from relay.test by x with ESMTPSA\n" SL("ESMTPSA") "\nb\n", 0, SCHED_ORIGIN_SMTP },
    /* a filter's field before the Received line is allowed */
    { QL("995") "DKIM-Signature: v=1\n" SL("ESMTPSA") "\nb\n", 0, SCHED_ORIGIN_AUTH },
    /* not written by tern-queue, cut short, unknown */
    { "Subject: x\n" QL("1000") "\nb\n", 0, SCHED_ORIGIN_SMTP },
    { "Received: (tern x invoked by uid 1000); d\n\nb\n", 0, SCHED_ORIGIN_SMTP },
    { "Received: (tern 1 invoked by uid 1000x); d\n\nb\n", 0, SCHED_ORIGIN_SMTP },
    { "Received: (tern 1 invoked by uid 99999999999999999999); d\n\nb\n", 0, SCHED_ORIGIN_SMTP },
    { "", 0, SCHED_ORIGIN_SMTP },
    { "\nbody\n", 0, SCHED_ORIGIN_SMTP },
    { QL("1000") "Subject: x\n", 1, SCHED_ORIGIN_SMTP },                  /* header goes on */
    { QL("995") "Received: from h ([1.2.3.4])\n\tby me.test (tern-smtpd) with ESMTPS", 1, SCHED_ORIGIN_SMTP },
    { QL("995") "Received: from h ([1.2.3.4])\n\tby me.test (tern-smtpd) with ESMTPSA", 0, SCHED_ORIGIN_SMTP },
  };
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int got = sched_origin(rows[i].m, strlen(rows[i].m), rows[i].more, 995);
    if (got != rows[i].want) fail_msg("row %zu: origin %d, want %d", i, got, rows[i].want);
  }
  /* every prefix of a message reads safely, and a cut one is never more
     trusted than SMTP unless it is complete */
  {
    const char *m = QL("1000") "Delivered-To: a@me.test\n" QL("995") SL("ESMTPSA") "Subject: x\n\nb\n";
    for (size_t n = 0; n < strlen(m); n++) {
      int got = sched_origin(m, n, 1, 995);
      if (got != SCHED_ORIGIN_SMTP && n < (size_t)(strstr(m, "\n\n") - m) + 1) fail_msg("prefix %zu: origin %d", n, got);
    }
  }
  assert_int_equal(sched_origin(QL("1000") "\nb\n", strlen(QL("1000") "\nb\n"), 0, SCHED_UID_UNKNOWN), SCHED_ORIGIN_SMTP);
}

/* control/bouncebody lines */
static void test_bodymode(void **state)
{
  unsigned char m[SCHED_ORIGINS];
  (void)state;
  sched_bodymode_default(m);
  assert_int_equal(m[SCHED_ORIGIN_LOCAL], SCHED_BODY_ALL);
  assert_int_equal(m[SCHED_ORIGIN_AUTH], SCHED_BODY_ALL);
  assert_int_equal(m[SCHED_ORIGIN_SMTP], SCHED_BODY_HEADERS);
  assert_int_equal(sched_bodymode_line("all", 3, m), 1); assert_int_equal(m[SCHED_ORIGIN_SMTP], SCHED_BODY_ALL);
  assert_int_equal(sched_bodymode_line(" headers\r", 9, m), 1); assert_int_equal(m[SCHED_ORIGIN_SMTP], SCHED_BODY_HEADERS);
  assert_int_equal(sched_bodymode_line("smtp:all", 8, m), 1); assert_int_equal(m[SCHED_ORIGIN_SMTP], SCHED_BODY_ALL);
  assert_int_equal(sched_bodymode_line("local:headers", 13, m), 1); assert_int_equal(m[SCHED_ORIGIN_LOCAL], SCHED_BODY_HEADERS);
  assert_int_equal(sched_bodymode_line("auth:headers\t", 13, m), 1); assert_int_equal(m[SCHED_ORIGIN_AUTH], SCHED_BODY_HEADERS);
  assert_int_equal(sched_bodymode_line("", 0, m), 1);
  assert_int_equal(sched_bodymode_line("# smtp:all", 10, m), 1); assert_int_equal(m[SCHED_ORIGIN_SMTP], SCHED_BODY_ALL);
  sched_bodymode_default(m);
  assert_int_equal(sched_bodymode_line("ALL", 3, m), 0);
  assert_int_equal(sched_bodymode_line("smtp:", 5, m), 0);
  assert_int_equal(sched_bodymode_line(":all", 4, m), 0);
  assert_int_equal(sched_bodymode_line("smtp: all", 9, m), 0);
  assert_int_equal(sched_bodymode_line("remote:all", 10, m), 0);
  assert_int_equal(sched_bodymode_line("smtp:all:all", 12, m), 0);
  assert_int_equal(sched_bodymode_line("body", 4, m), 0);
  assert_int_equal(sched_bodymode_line("al", 2, m), 0);
  assert_int_equal(m[SCHED_ORIGIN_LOCAL], SCHED_BODY_ALL);
  assert_int_equal(m[SCHED_ORIGIN_AUTH], SCHED_BODY_ALL);
  assert_int_equal(m[SCHED_ORIGIN_SMTP], SCHED_BODY_HEADERS);
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
    cmocka_unit_test(test_hours),
    cmocka_unit_test(test_mta),
    cmocka_unit_test(test_jrec),
    cmocka_unit_test(test_idmap),
    cmocka_unit_test(test_origin),
    cmocka_unit_test(test_bodymode),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
