/* local/dotfile.c: the delivery-instruction line parser (dot-qmail(5)
   rules) and tern-local's small formats, table-driven, with hostile rows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "local/dotfile.h"

struct row { const char *in; size_t len; int first; int type; const char *value; };
#define R(s, f, t, v) { s, sizeof s - 1, f, t, v }

static const struct row rows[] = {
  R("./Maildir/", 1, DF_MAILDIR, "./Maildir/"),
  R("/var/mail/joe", 1, DF_MBOX, "/var/mail/joe"),
  R("./Mailbox  \t", 0, DF_MBOX, "./Mailbox"),
  R("./Maildir/ ", 0, DF_MAILDIR, "./Maildir/"),
  R("|preline procmail", 1, DF_PROGRAM, "preline procmail"),
  R("|", 0, DF_PROGRAM, ""),
  R("&joe@example.test", 1, DF_FORWARD, "joe@example.test"),
  R("joe@example.test", 0, DF_FORWARD, "joe@example.test"),
  R("# comment", 1, DF_SKIP, 0),
  R("#", 0, DF_SKIP, 0),
  R("", 0, DF_SKIP, 0),
  R("   ", 0, DF_SKIP, 0),
  R("", 1, DF_EBLANK, 0),
  R(" \t", 1, DF_EBLANK, 0),
  R("+list", 1, DF_LIST, 0),
  R("+lists", 1, DF_EUNKNOWN, 0),
  R("&", 0, DF_EADDR, 0),
  R("&joe", 0, DF_EADDR, 0),
  R("joe@", 0, DF_EADDR, 0),
  R("@example.test", 0, DF_EADDR, 0),
  R("<joe@example.test>", 0, DF_EADDR, 0),
  R("joe smith@example.test", 0, DF_EADDR, 0),
  R("joe@example.test (Joe)", 0, DF_EADDR, 0),
  R("a,b@example.test", 0, DF_EADDR, 0),
  R("joe\001@example.test", 0, DF_EADDR, 0),
  R("joe@ex\0ample.test", 0, DF_ENUL, 0),
  R("./Mail\0dir/", 0, DF_ENUL, 0),
  R("-joe@example.test", 0, DF_FORWARD, "-joe@example.test"),
};

static void test_rows(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const char *v = 0; size_t vl = 0;
    int t = dotfile_line(rows[i].in, rows[i].len, rows[i].first, &v, &vl);
    if (t != rows[i].type) fail_msg("row %zu (%s): type %d, expected %d", i, rows[i].in, t, rows[i].type);
    if (rows[i].value) {
      assert_int_equal(vl, strlen(rows[i].value));
      assert_memory_equal(v, rows[i].value, vl);
    }
  }
}

static void test_long(void **state)
{
  char *b = malloc(DOTFILE_LINE_MAX + 2);
  const char *v; size_t vl;
  (void)state;
  assert_non_null(b);
  memset(b, 'a', DOTFILE_LINE_MAX + 1);
  b[0] = '/';
  assert_int_equal(dotfile_line(b, DOTFILE_LINE_MAX + 1, 0, &v, &vl), DF_ELONG);
  assert_int_equal(dotfile_line(b, DOTFILE_LINE_MAX, 0, &v, &vl), DF_MBOX);
  /* a forward address over DOTFILE_ADDR_MAX */
  memset(b, 'a', DOTFILE_ADDR_MAX + 1);
  memcpy(b + DOTFILE_ADDR_MAX - 4, "@b.c", 4);
  assert_int_equal(dotfile_line(b, DOTFILE_ADDR_MAX, 0, &v, &vl), DF_FORWARD);
  b[DOTFILE_ADDR_MAX - 4] = 'x';
  memcpy(b + DOTFILE_ADDR_MAX - 3, "@b.c", 4);
  assert_int_equal(dotfile_line(b, DOTFILE_ADDR_MAX + 1, 0, &v, &vl), DF_EADDR);
  free(b);
}

static void test_next(void **state)
{
  const char buf[] = "a\n\nbc\nlast";
  size_t pos = 0, l;
  const char *s;
  (void)state;
  assert_int_equal(dotfile_next(buf, sizeof buf - 1, &pos, &s, &l), 1);
  assert_int_equal(l, 1); assert_memory_equal(s, "a", 1);
  assert_int_equal(dotfile_next(buf, sizeof buf - 1, &pos, &s, &l), 1);
  assert_int_equal(l, 0);
  assert_int_equal(dotfile_next(buf, sizeof buf - 1, &pos, &s, &l), 1);
  assert_int_equal(l, 2); assert_memory_equal(s, "bc", 2);
  assert_int_equal(dotfile_next(buf, sizeof buf - 1, &pos, &s, &l), 1);
  assert_int_equal(l, 4); assert_memory_equal(s, "last", 4);
  assert_int_equal(dotfile_next(buf, sizeof buf - 1, &pos, &s, &l), 0);
  pos = 0;
  assert_int_equal(dotfile_next("", 0, &pos, &s, &l), 0);
}

static void test_safeext(void **state)
{
  char d[32];
  (void)state;
  dotfile_safeext(d, "Foo.Bar-..x", 11);
  assert_memory_equal(d, "foo:bar-::x", 11);
}

static void test_mboxrd(void **state)
{
  (void)state;
  assert_true(dotfile_mboxrd_quote("From x", 6));
  assert_true(dotfile_mboxrd_quote(">From x", 7));
  assert_true(dotfile_mboxrd_quote(">>>From ", 8));
  assert_false(dotfile_mboxrd_quote("From", 4));
  assert_false(dotfile_mboxrd_quote(" From x", 7));
  assert_false(dotfile_mboxrd_quote(">>", 2));
  assert_false(dotfile_mboxrd_quote("from x", 6));
  assert_false(dotfile_mboxrd_quote("", 0));
}

static void test_progexit(void **state)
{
  static const int perm[] = { 64, 65, 70, 76, 77, 78, 100, 112 };
  (void)state;
  assert_int_equal(dotfile_progexit(0), 0);
  assert_int_equal(dotfile_progexit(99), 99);
  for (size_t i = 0; i < sizeof perm / sizeof perm[0]; i++) assert_int_equal(dotfile_progexit(perm[i]), 100);
  assert_int_equal(dotfile_progexit(111), 111);
  assert_int_equal(dotfile_progexit(1), 111);
  assert_int_equal(dotfile_progexit(75), 111);
  assert_int_equal(dotfile_progexit(255), 111);
}

static void test_formats(void **state)
{
  char d[64];
  size_t n;
  (void)state;
  n = dotfile_maildir_host(d, "a/b:c", 5);
  assert_int_equal(n, dotfile_maildir_host(0, "a/b:c", 5));
  assert_int_equal(n, 11); assert_memory_equal(d, "a\\057b\\072c", 11);
  n = dotfile_fromsender(d, "", 0);
  assert_int_equal(n, 13); assert_memory_equal(d, "MAILER-DAEMON", 13);
  n = dotfile_fromsender(d, "a b\tc@d", 7);
  assert_memory_equal(d, "a-b-c@d", 7);
  n = dotfile_quote(d, "joe@x.test", 10);
  assert_int_equal(n, 10); assert_memory_equal(d, "joe@x.test", 10);
  n = dotfile_quote(d, "j o\"e@x", 7);
  assert_int_equal(n, dotfile_quote(0, "j o\"e@x", 7));
  assert_int_equal(n, 10); assert_memory_equal(d, "\"j o\\\"e\"@x", 10);
  n = dotfile_quote(d, "a..b@x", 6);
  assert_memory_equal(d, "\"a..b\"@x", n);
  n = dotfile_quote(d, "a\nb@x", 5);
  assert_memory_equal(d, "\"a_b\"@x", n);
  assert_int_equal(dotfile_quote(d, "", 0), 0);
  n = dotfile_quote(d, "#@[]", 4);
  assert_memory_equal(d, "#@[]", n);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rows), cmocka_unit_test(test_long), cmocka_unit_test(test_next),
    cmocka_unit_test(test_safeext), cmocka_unit_test(test_mboxrd), cmocka_unit_test(test_progexit),
    cmocka_unit_test(test_formats),
  };
  return cmocka_run_group_tests_name("local-dotfile", tests, 0, 0);
}
