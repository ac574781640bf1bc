/* smtpd-smtp-test: the SMTP command parser and the DATA/BDAT state machine
   (smtpd/smtp.c), including every "SMTP smuggling" ending. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "smtpd/smtp.h"

/* feed all of s (one call, or byte by byte); returns bytes consumed */
static size_t feed(struct smtp_data *d, const char *s, size_t n, int bytewise, char *out, size_t *olen)
{
  size_t used = 0, o = 0;
  static char tmp[70000];
  *olen = 0;
  if (!bytewise) {
    used = smtp_data_feed(d, s, n, tmp, &o);
    memcpy(out, tmp, o);
    *olen = o;
    return used;
  }
  for (size_t i = 0; i < n && !d->done; i++) {
    used += smtp_data_feed(d, s + i, 1, tmp, &o);
    memcpy(out + *olen, tmp, o);
    *olen += o;
  }
  return used;
}

static void test_cmd(void **st)
{
  struct smtp_cmd c;
  (void)st;
  assert_int_equal(smtp_cmd_parse("eHlO  client.example  ", 22, &c), 1);
  assert_int_equal(c.verb, SMTP_V_EHLO);
  assert_int_equal(c.arglen, 14);
  assert_memory_equal(c.arg, "client.example", 14);
  assert_int_equal(smtp_cmd_parse("QUIT", 4, &c), 1);
  assert_int_equal(c.verb, SMTP_V_QUIT);
  assert_int_equal(c.arglen, 0);
  assert_int_equal(smtp_cmd_parse("FROBNICATE x", 12, &c), 1);
  assert_int_equal(c.verb, SMTP_V_UNKNOWN);
  assert_int_equal(smtp_cmd_parse("NOOP\rx", 6, &c), 0);
  assert_int_equal(smtp_cmd_parse("NO\0P", 4, &c), 0);
  assert_int_equal(smtp_cmd_parse("MAILX", 5, &c), 1);
  assert_int_equal(c.verb, SMTP_V_UNKNOWN);
}

static void test_mail(void **st)
{
  struct addr a;
  struct smtp_mailparams p;
  int e;
  const char *s;
  (void)st;
  s = "FROM:<a@b.example> SIZE=1000 BODY=8BITMIME";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_OK);
  assert_string_equal(a.s, "a@b.example");
  assert_int_equal(p.has_size, 1);
  assert_true(p.size == 1000);
  assert_int_equal(p.body, SMTP_BODY_8BITMIME);
  s = "from: <>";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_OK);
  assert_true(a.flags & ADDR_F_NULL);
  s = "FROM:<a@b.example> XFROB=1";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_E_PARAM);
  s = "FROM:<a@b.example> SIZE=12x";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_E_PARAMVAL);
  s = "FROM:<a@b.example> SIZE=99999999999999999999999";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_E_PARAMVAL);
  s = "FROM:<a@b.example> BODY=BINARYMIME";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_E_PARAMVAL);
  s = "FROM:<j\xc3\xb6rg@b.example>";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_E_UTF8);
  s = "FROM:<j\xc3\xb6rg@b.example> SMTPUTF8";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_OK);
  assert_int_equal(p.smtputf8, 1);
  s = "TO:<a@b.example>";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_E_SYNTAX);
  s = "FROM:a@b.example";
  assert_int_equal(smtp_parse_mail(s, strlen(s), &a, &p, &e), SMTP_E_ADDR);
}

static void test_rcpt(void **st)
{
  struct addr a;
  int e;
  const char *s;
  (void)st;
  s = "TO:<PostMaster>";
  assert_int_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_OK);
  assert_true(a.flags & ADDR_F_NODOMAIN);
  s = "TO:<user>";
  assert_int_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_E_ADDR);
  s = "TO:<>";
  assert_int_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_E_ADDR);
  s = "TO:<@demo.test:x@example.net>";
  assert_int_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_OK);
  assert_string_equal(a.s, "x@example.net");   /* judged by the mailbox domain */
  s = "TO:<\"x@example.net\"@demo.test>";
  assert_int_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_OK);
  assert_string_equal(a.s + a.at, "@demo.test");
  s = "TO:<\"x@example.net\">";
  assert_int_not_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_OK);
  s = "TO:<@route.example.net user@demo.test>";
  assert_int_not_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_OK);
  s = "TO:<a@b.example> NOTIFY=NEVER";
  assert_int_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_E_PARAM);
  s = "TO:<\xce\xb4@demo.test>";
  assert_int_equal(smtp_parse_rcpt(s, strlen(s), 0, &a, &e), SMTP_E_UTF8);
  assert_int_equal(smtp_parse_rcpt(s, strlen(s), 1, &a, &e), SMTP_OK);
}

static void test_bdat(void **st)
{
  uint64_t n;
  int last;
  (void)st;
  assert_int_equal(smtp_parse_bdat("0 LAST", 6, &n, &last), 1);
  assert_true(n == 0 && last == 1);
  assert_int_equal(smtp_parse_bdat("123", 3, &n, &last), 1);
  assert_true(n == 123 && last == 0);
  assert_int_equal(smtp_parse_bdat("12 last", 7, &n, &last), 1);
  assert_int_equal(smtp_parse_bdat("", 0, &n, &last), 0);
  assert_int_equal(smtp_parse_bdat("x", 1, &n, &last), 0);
  assert_int_equal(smtp_parse_bdat("1 FIRST", 7, &n, &last), 0);
  assert_int_equal(smtp_parse_bdat("99999999999999999999999", 23, &n, &last), 0);
}

/* a refused BDAT: the size that can still be read, or none (close) */
static void test_bdat_count(void **st)
{
  static const struct { const char *arg; int ok; uint64_t n; } rows[] = {
    { "40 LAST junk", 1, 40 }, { "40\tLAST", 1, 40 }, { "40 FIRST", 1, 40 },
    { "0 x", 1, 0 }, { "7", 1, 7 }, { "1125899906842624 x", 1, (uint64_t)1 << 50 },
    { "99999999999999999999 LAST", 0, 0 }, { "1125899906842625", 0, 0 },
    { "", 0, 0 }, { "LAST", 0, 0 }, { "-40 LAST", 0, 0 }, { "40LAST", 0, 0 },
    { "+40", 0, 0 }, { "0x28 LAST", 0, 0 }, { "40,LAST", 0, 0 }, { " 40", 0, 0 },
  };
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    uint64_t n = 12345;
    int r = smtp_bdat_count(rows[i].arg, strlen(rows[i].arg), &n);
    if (r != rows[i].ok) fail_msg("row %zu (%s): %d", i, rows[i].arg, r);
    if (r && n != rows[i].n) fail_msg("row %zu (%s): n %llu", i, rows[i].arg, (unsigned long long)n);
  }
}

static void test_data_basic(void **st)
{
  struct smtp_data d;
  char out[512];
  size_t o;
  const char *m = "Subject: x\r\n\r\n..leading\r\n..\r\n...triple\r\nplain\r\n.\r\nNOOP\r\n";
  (void)st;
  for (int bw = 0; bw < 2; bw++) {
    size_t used;
    smtp_data_init(&d, SMTP_MODE_DATA, 0);
    used = feed(&d, m, strlen(m), bw, out, &o);
    assert_int_equal(d.done, 1);
    assert_int_equal(d.flags, 0);
    assert_int_equal(strlen(m) - used, 6);   /* "NOOP\r\n" is left */
    assert_int_equal(o, strlen("Subject: x\n\n.leading\n.\n..triple\nplain\n"));
    assert_memory_equal(out, "Subject: x\n\n.leading\n.\n..triple\nplain\n", o);
  }
  smtp_data_init(&d, SMTP_MODE_DATA, 0);
  feed(&d, ".\r\n", 3, 0, out, &o);
  assert_int_equal(d.done, 1);
  assert_int_equal(o, 0);
}

/* the 2023 smuggling endings never end DATA and always flag the message */
static void test_smuggling(void **st)
{
  static const char *const bad[] = {
    "body\n.\nMAIL FROM:<x@y>\r\n", "body\r.\rMAIL FROM:<x@y>\r\n",
    "body\n.\r\nMAIL FROM:<x@y>\r\n", "body\r\n.\rMAIL FROM:<x@y>\r\n",
    "body\r.\r\nMAIL\r\n", "body\r\n.\nMAIL\r\n", "body\n\r\n.x\r\n",
  };
  (void)st;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    for (int bw = 0; bw < 2; bw++) {
      struct smtp_data d;
      char out[512];
      size_t o;
      smtp_data_init(&d, SMTP_MODE_DATA, 0);
      assert_int_equal(feed(&d, bad[i], strlen(bad[i]), bw, out, &o), strlen(bad[i]));
      assert_int_equal(d.done, 0);
      assert_true(d.flags & (SMTP_D_BARELF | SMTP_D_BARECR));
      /* the real end still works and the flags stay */
      feed(&d, "\r\n.\r\n", 5, bw, out, &o);
      assert_int_equal(d.done, 1);
      assert_true(d.flags & (SMTP_D_BARELF | SMTP_D_BARECR));
    }
}

static void test_data_flags(void **st)
{
  struct smtp_data d;
  static char big[3000], out[4000];
  size_t o;
  (void)st;
  smtp_data_init(&d, SMTP_MODE_DATA, 0);
  feed(&d, "a\0b\r\n.\r\n", 8, 0, out, &o);
  assert_true(d.done && (d.flags & SMTP_D_NUL));
  memset(big, 'x', 1001);
  memcpy(big + 1001, "\r\n.\r\n", 5);
  smtp_data_init(&d, SMTP_MODE_DATA, 0);
  feed(&d, big, 1006, 0, out, &o);
  assert_true(d.done && (d.flags & SMTP_D_LONGLINE));
  memcpy(big + 998, "\r\n.\r\n", 5);   /* 1000 octets with CRLF: fine */
  smtp_data_init(&d, SMTP_MODE_DATA, 0);
  feed(&d, big, 1003, 0, out, &o);
  assert_true(d.done && d.flags == 0);
  smtp_data_init(&d, SMTP_MODE_DATA, 10);
  feed(&d, "0123456789\r\n.\r\n", 15, 0, out, &o);
  assert_true(d.done && (d.flags & SMTP_D_TOOBIG));
  smtp_data_init(&d, SMTP_MODE_DATA, 12);   /* exactly 12 octets with CRLF */
  feed(&d, "0123456789\r\n.\r\n", 15, 0, out, &o);
  assert_true(d.done && d.flags == 0 && d.size == 12 && o == 11);
}

static void test_hops(void **st)
{
  struct smtp_data d;
  static char msg[8000], out[8000];
  size_t n = 0, o;
  (void)st;
  for (int i = 0; i < 99; i++) { memcpy(msg + n, "Received: x\r\n", 13); n += 13; }
  memcpy(msg + n, "\r\nReceived: in body\r\n.\r\n", 24);
  smtp_data_init(&d, SMTP_MODE_DATA, 0);
  feed(&d, msg, n + 24, 0, out, &o);
  assert_true(d.done && d.flags == 0 && d.hops == 99);
  memcpy(msg + n, "delivered-to: y\r\n\r\n.\r\n", 22);
  smtp_data_init(&d, SMTP_MODE_DATA, 0);
  feed(&d, msg, n + 22, 0, out, &o);
  assert_true(d.done && (d.flags & SMTP_D_HOPS));
}

static void test_bdat_mode(void **st)
{
  struct smtp_data d;
  char out[100];
  size_t o, o2;
  (void)st;
  smtp_data_init(&d, SMTP_MODE_BDAT, 0);
  assert_int_equal(smtp_data_feed(&d, "..x\r\n.\r", 7, out, &o), 7);
  assert_int_equal(smtp_data_feed(&d, "\nend\r\n", 6, out + o, &o2), 6);
  smtp_data_finish(&d);
  assert_int_equal(d.done, 0);
  assert_int_equal(d.flags, 0);
  assert_int_equal(o + o2, 10);
  assert_memory_equal(out, "..x\n.\nend\n", 10);
  smtp_data_init(&d, SMTP_MODE_BDAT, 0);
  smtp_data_feed(&d, "x\r", 2, out, &o);
  smtp_data_finish(&d);
  assert_true(d.flags & SMTP_D_BARECR);
  smtp_data_init(&d, SMTP_MODE_BDAT, 0);
  smtp_data_feed(&d, "x\ny\r\n", 5, out, &o);
  assert_true(d.flags & SMTP_D_BARELF);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cmd), cmocka_unit_test(test_mail), cmocka_unit_test(test_rcpt),
    cmocka_unit_test(test_bdat), cmocka_unit_test(test_bdat_count), cmocka_unit_test(test_data_basic),
    cmocka_unit_test(test_smuggling), cmocka_unit_test(test_data_flags),
    cmocka_unit_test(test_hops), cmocka_unit_test(test_bdat_mode),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
