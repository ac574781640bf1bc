/* remote-reply-test: send/remote-reply.c, the SMTP reply parser of tern-remote:
   one row per input, hostile ones included (long lines, many lines, NULs,
   codes that are not 3 digits) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "send/remote-reply.h"

struct row { const char *in; size_t len; int ret; int code; const char *text; size_t used; };
#define S(x) x, sizeof x - 1

static const struct row rows[] = {
  { S("250 ok\r\n"), REPLY_DONE, 250, "250 ok", 8 },
  { S("250 ok\n"), REPLY_DONE, 250, "250 ok", 7 },                /* bare LF accepted */
  { S("250\r\n"), REPLY_DONE, 250, "250", 5 },                    /* no text */
  { S("250\n"), REPLY_DONE, 250, "250", 4 },
  { S("250-a\r\n250 b\r\n"), REPLY_DONE, 250, "250-a\n250 b", 14 },
  { S("250-a\r\n250 b\r\n220 next\r\n"), REPLY_DONE, 250, "250-a\n250 b", 14 }, /* pipelined rest kept */
  { S("421 bye\r\n"), REPLY_DONE, 421, "421 bye", 9 },
  { S("554 5.7.1 no\r\n"), REPLY_DONE, 554, "554 5.7.1 no", 14 },
  { S("250 a\rb\r\n"), REPLY_DONE, 250, "250 a?b", 9 },            /* stray CR */
  { S("250 a\0b\r\n"), REPLY_DONE, 250, "250 a?b", 9 },            /* NUL in text */
  { S("250 \x80\xff\r\n"), REPLY_DONE, 250, "250 ??", 8 },
  { S("250-a\r\n"), REPLY_MORE, 0, "250-a", 7 },                   /* incomplete */
  { S("250 ok"), REPLY_MORE, 0, "250 ok", 6 },
  { S("25 ok\r\n"), REPLY_E_CODE, 0, 0, 3 },                       /* 2 digits */
  { S("2500 ok\r\n"), REPLY_E_CODE, 0, 0, 4 },                     /* 4 digits */
  { S("abc ok\r\n"), REPLY_E_CODE, 0, 0, 1 },
  { S("150 ok\r\n"), REPLY_E_CODE, 0, 0, 1 },                      /* first digit 1 */
  { S("650 ok\r\n"), REPLY_E_CODE, 0, 0, 1 },
  { S("\0\0\0 ok\r\n"), REPLY_E_CODE, 0, 0, 1 },                   /* NUL code */
  { S("\r\n"), REPLY_E_CODE, 0, 0, 1 },                            /* empty line */
  { S("250-a\r\n251 b\r\n"), REPLY_E_CODE, 0, 0, 10 },             /* codes differ */
  { S("250x\r\n"), REPLY_E_CODE, 0, 0, 4 },                        /* bad separator */
  { S("250\rx\n"), REPLY_E_CODE, 0, 0, 5 },
};

static void test_rows(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct reply r;
    size_t used = 99;
    reply_init(&r);
    int ret = reply_feed(&r, rows[i].in, rows[i].len, &used);
    if (ret != rows[i].ret || used != rows[i].used) fail_msg("row %zu: ret %d used %zu", i, ret, used);
    if (ret == REPLY_DONE) {
      assert_int_equal(r.code, rows[i].code);
      assert_string_equal(r.text, rows[i].text);
    } else assert_int_equal(r.code, 0);
  }
}

/* every row again, fed one byte at a time, must give the same result */
static void test_bytewise(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct reply r;
    size_t used, total = 0;
    int ret = REPLY_MORE;
    reply_init(&r);
    for (size_t k = 0; k < rows[i].len; k++) {
      ret = reply_feed(&r, rows[i].in + k, 1, &used);
      total += used;
      if (ret != REPLY_MORE) break;
    }
    if (ret != rows[i].ret || total != rows[i].used) fail_msg("row %zu bytewise: ret %d used %zu", i, ret, total);
    if (ret == REPLY_DONE) assert_string_equal(r.text, rows[i].text);
  }
}

static void test_longline(void **st)
{
  static char buf[REPLY_LINE_MAX + 10];
  struct reply r;
  size_t used;
  (void)st;
  /* 1500 octets: accepted (over the RFC minimum of 512, under our cap), text capped */
  memset(buf, 'x', sizeof buf);
  memcpy(buf, "250 ", 4);
  memcpy(buf + 1498, "\r\n", 2);
  reply_init(&r);
  assert_int_equal(reply_feed(&r, buf, 1500, &used), REPLY_DONE);
  assert_int_equal(r.code, 250);
  assert_int_equal(r.textlen, 1498);
  /* exactly REPLY_LINE_MAX octets: accepted; one more: refused */
  memcpy(buf + REPLY_LINE_MAX - 2, "\r\n", 2);
  reply_init(&r);
  assert_int_equal(reply_feed(&r, buf, REPLY_LINE_MAX, &used), REPLY_DONE);
  memset(buf, 'x', sizeof buf);
  memcpy(buf, "250 ", 4);
  memcpy(buf + REPLY_LINE_MAX - 1, "\r\n", 2);
  reply_init(&r);
  assert_int_equal(reply_feed(&r, buf, REPLY_LINE_MAX + 1, &used), REPLY_E_LINE);
  /* and the error sticks */
  assert_int_equal(reply_feed(&r, "250 ok\r\n", 8, &used), REPLY_E_LINE);
  assert_int_equal(used, 0);
}

static void test_manylines(void **st)
{
  struct reply r;
  size_t used;
  int ret = REPLY_MORE;
  unsigned i;
  (void)st;
  reply_init(&r);
  for (i = 0; i < 10000 && ret == REPLY_MORE; i++) ret = reply_feed(&r, "250-xxxxxxxxxx\r\n", 16, &used);
  assert_int_equal(ret, REPLY_E_LINES);
  assert_int_equal(i, REPLY_LINES_MAX);
  /* just under the cap is fine, and the kept text is capped */
  reply_init(&r);
  for (i = 0; i < REPLY_LINES_MAX - 1; i++) assert_int_equal(reply_feed(&r, "250-xxxxxxxxxx\r\n", 16, &used), REPLY_MORE);
  assert_int_equal(reply_feed(&r, "250 end\r\n", 9, &used), REPLY_DONE);
  assert_int_equal(r.textlen, REPLY_TEXT_MAX);
  assert_int_equal(r.truncated, 1);
  assert_int_equal(strlen(r.text), REPLY_TEXT_MAX);
}

static void test_ehlo(void **st)
{
  static const char e1[] = "250-mx.example.test hello\r\n250-PIPELINING\r\n250-size 1000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 HELP\r\n";
  static const char e2[] = "250-mx.example.test\r\n250-SIZE\r\n250-PIPELININGX\r\n250 8BITMIMEY\r\n";
  static const char e3[] = "250 mx.example.test\r\n";
  static const char e4[] = "250-x\r\n250 SIZE 99999999999999999999999999\r\n";
  static const char e5[] = "250-x\r\n250-starttls\r\n250 STARTTLSX\r\n";
  static const char e6[] = "250-x\r\n250 STARTTLSX\r\n";
  static const char e7[] = "250-x\r\n250-AUTH cram-md5 plain\r\n250 AUTH=LOGIN\r\n";
  static const char e8[] = "250-x\r\n250-AUTHX PLAIN\r\n250 AUTH PLAINX LOGI\r\n";
  struct reply r;
  struct ehlo e;
  size_t used;
  (void)st;
  reply_init(&r); assert_int_equal(reply_feed(&r, e1, sizeof e1 - 1, &used), REPLY_DONE);
  reply_ehlo(&r, &e);
  assert_true(e.pipelining && e.eightbitmime && e.smtputf8 && e.size);
  assert_int_equal(e.sizemax, 1000);
  reply_init(&r); assert_int_equal(reply_feed(&r, e2, sizeof e2 - 1, &used), REPLY_DONE);
  reply_ehlo(&r, &e);
  assert_true(!e.pipelining && !e.eightbitmime && !e.smtputf8 && e.size);
  assert_int_equal(e.sizemax, 0);
  reply_init(&r); assert_int_equal(reply_feed(&r, e3, sizeof e3 - 1, &used), REPLY_DONE);
  reply_ehlo(&r, &e);
  assert_true(!e.pipelining && !e.size);
  reply_init(&r); assert_int_equal(reply_feed(&r, e4, sizeof e4 - 1, &used), REPLY_DONE);
  reply_ehlo(&r, &e);
  assert_true(e.size);
  assert_int_equal(e.sizemax, 0);  /* overflow: no limit rather than a wrong one */
  assert_false(e.starttls);
  reply_init(&r); assert_int_equal(reply_feed(&r, e5, sizeof e5 - 1, &used), REPLY_DONE);
  reply_ehlo(&r, &e);
  assert_true(e.starttls);
  reply_init(&r); assert_int_equal(reply_feed(&r, e6, sizeof e6 - 1, &used), REPLY_DONE);
  reply_ehlo(&r, &e);
  assert_false(e.starttls);
  assert_false(e.authplain || e.authlogin);
  reply_init(&r); assert_int_equal(reply_feed(&r, e7, sizeof e7 - 1, &used), REPLY_DONE);
  reply_ehlo(&r, &e);
  assert_true(e.authplain && e.authlogin);
  reply_init(&r); assert_int_equal(reply_feed(&r, e8, sizeof e8 - 1, &used), REPLY_DONE);
  reply_ehlo(&r, &e);
  assert_false(e.authplain || e.authlogin);
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(test_rows), cmocka_unit_test(test_bytewise), cmocka_unit_test(test_longline),
    cmocka_unit_test(test_manylines), cmocka_unit_test(test_ehlo),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
