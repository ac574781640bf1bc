/* common/qfn.c, date822.c, safe.c, qqcode.c: table-driven rows with the
   edge values (0, UINT64_MAX, overflow by one, leap days, hostile bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/qfn.h"
#include "common/date822.h"
#include "common/safe.h"
#include "common/qqcode.h"
#include "common/say.h"
#include <errno.h>
#include <unistd.h>

static void t_qfn(void **st)
{
  static const struct { const char *s; int ok; uint64_t v; } scans[] = {
    { "0", 1, 0 }, { "42", 1, 42 }, { "007", 1, 7 },
    { "18446744073709551615", 1, UINT64_MAX },
    { "18446744073709551616", 0, 0 },          /* overflow by one */
    { "99999999999999999999", 0, 0 },
    { "000000000000000000001", 0, 0 },         /* 21 digits */
    { "", 0, 0 }, { "-1", 0, 0 }, { "+1", 0, 0 }, { " 1", 0, 0 }, { "1 ", 0, 0 }, { "1a", 0, 0 },
  };
  char b[QFN_MAX];
  uint64_t v;
  (void)st;
  for (size_t i = 0; i < sizeof scans / sizeof scans[0]; i++) {
    v = 777;
    assert_int_equal(qfn_scanu64(scans[i].s, strlen(scans[i].s), &v), scans[i].ok);
    assert_true(v == (scans[i].ok ? scans[i].v : 777));
  }
  assert_int_equal(qfn_scanu64("1\0002", 3, &v), 0);
  assert_int_equal(qfn_fmtu64(0, 0), 1);
  assert_int_equal(qfn_fmtu64(0, UINT64_MAX), 20);
  b[qfn_fmtu64(b, UINT64_MAX)] = 0;
  assert_string_equal(b, "18446744073709551615");
  b[qfn_fmtu64(b, 0)] = 0;
  assert_string_equal(b, "0");
  assert_int_equal(qfn_split(b, "mess", 46), 9);
  assert_string_equal(b, "mess/0/46");
  qfn_split(b, "remote", 24);
  assert_string_equal(b, "remote/1/24");
  assert_true(qfn_split(b, "remote", UINT64_MAX) < QFN_MAX);
  assert_int_equal(qfn_flat(b, "todo", 123456), 11);
  assert_string_equal(b, "todo/123456");
  assert_true(qfn_flat(b, "bounce", UINT64_MAX) < QFN_MAX);
}

static void t_date(void **st)
{
  static const struct { time_t t; const char *s; } rows[] = {
    { 0, "Thu, 1 Jan 1970 00:00:00 +0000" },
    { 951782400, "Tue, 29 Feb 2000 00:00:00 +0000" },   /* leap day */
    { 1709251199, "Thu, 29 Feb 2024 23:59:59 +0000" },
    { 2147483647, "Tue, 19 Jan 2038 03:14:07 +0000" },
    { 2147483648LL, "Tue, 19 Jan 2038 03:14:08 +0000" },
    { 1798575714, "Tue, 29 Dec 2026 20:21:54 +0000" },
  };
  char b[DATE822_MAX];
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = date822_fmt(b, rows[i].t);
    assert_int_equal(n, strlen(rows[i].s));
    assert_string_equal(b, rows[i].s);
  }
  /* extreme times never overflow the buffer */
  assert_true(date822_fmt(b, (time_t)INT64_MAX) < DATE822_MAX);
  assert_true(date822_fmt(b, (time_t)INT64_MIN) < DATE822_MAX);
  assert_true(date822_fmt(b, (time_t)-1) < DATE822_MAX);
}

static void t_safe(void **st)
{
  static const struct { const char *in; size_t n; const char *bad; const char *out; } rows[] = {
    { "hello", 5, 0, "hello" },
    { "a b\r\n", 5, 0, "a?b??" },
    { "a\0b", 3, 0, "a?b" },
    { "\x7f\x80\xff\x1b[31m", 8, 0, "????[31m" },
    { "x(y)z", 5, "()", "x?y?z" },
    { "", 0, 0, "" },
  };
  char b[32];
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    memset(b, 0, sizeof b);
    assert_int_equal(safe_copy(0, rows[i].in, rows[i].n, '?', rows[i].bad), rows[i].n);
    assert_int_equal(safe_copy(b, rows[i].in, rows[i].n, '?', rows[i].bad), rows[i].n);
    assert_memory_equal(b, rows[i].out, rows[i].n);
  }
  {
    char big[10000], out[10000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)i;
    safe_copy(out, big, sizeof big, '_', 0);
    for (size_t i = 0; i < sizeof out; i++) assert_true(out[i] >= 0x21 && out[i] <= 0x7e);
  }
}

static void t_qq(void **st)
{
  static const struct { int code, perm; const char *s; } rows[] = {
    { QQ_OK, 0, "ok" },
    { QQ_TOOLONG, 1, "address too long (#5.1.3)" },
    { QQ_PERM_REFUSED, 1, 0 },
    { QQ_WRITE, 0, "qq write error or disk full (#4.3.0)" },
    { QQ_ENVELOPE, 0, "qq envelope format error (#4.3.0)" },
    { QQ_CANTRUN, 0, 0 },
    { 10, 0, "qq temporary problem (#4.3.0)" },
    { 40, 1, "qq permanent problem (#5.3.0)" },
    { 41, 0, "qq temporary problem (#4.3.0)" },
    { -1, 0, 0 }, { 255, 0, 0 }, { 100000, 0, 0 },
  };
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int perm = 7;
    const char *s = qq_describe(rows[i].code, &perm);
    assert_non_null(s);
    assert_int_equal(perm, rows[i].perm);
    if (rows[i].s) assert_string_equal(s, rows[i].s);
  }
  for (int c = -5; c < 300; c++) {
    int perm;
    assert_non_null(qq_describe(c, &perm));
    assert_int_equal(perm, c >= 11 && c <= 40);
  }
}

/* say3: "prog: a b c" and LF on fd 2, null parts skipped, cut at 600
   bytes, errno kept */
static void t_say(void **st)
{
  int p[2], saved = dup(2);
  char buf[1024], big[700];
  ssize_t n;
  (void)st;
  assert_int_equal(pipe(p), 0);
  dup2(p[1], 2);
  errno = 42;
  say3("prog", "fatal: ", 0, "x");
  assert_int_equal(errno, 42);
  memset(big, 'b', sizeof big - 1);
  big[sizeof big - 1] = 0;
  say3("prog", big, 0, 0);
  dup2(saved, 2);
  close(p[1]);
  n = read(p[0], buf, sizeof buf);
  assert_true(n > 0);
  assert_memory_equal(buf, "prog: fatal: x\n", 15);
  assert_int_equal(n, 15 + 600);
  assert_int_equal(buf[n - 1], '\n');
  close(p[0]);
  close(saved);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_qfn),
    cmocka_unit_test(t_date),
    cmocka_unit_test(t_safe),
    cmocka_unit_test(t_qq),
    cmocka_unit_test(t_say),
  };
  return cmocka_run_group_tests_name("common-misc", tests, 0, 0);
}
