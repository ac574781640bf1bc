/* common/qctl.c: the queue command protocol. Every command with every
   target it takes, the targets it does not take, malformed lines (case,
   blanks, CR, bad ids and domains, too long), partial input, round trips
   through qctl_fmt, domain matching and ages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/qctl.h"

static int parse(const char *s, struct qctl_req *r)
{
  size_t used = 0;
  int k = qctl_parse(s, strlen(s), r, &used);
  if (k == 1) assert_int_equal(used, strlen(s) - strlen(strchr(s, '\n') + 1));
  return k;
}

static void t_valid(void **st)
{
  struct qctl_req r;
  (void)st;
  assert_int_equal(parse("list\n", &r), 1);
  assert_int_equal(r.cmd, QCTL_LIST); assert_int_equal(r.target, QCTL_NONE);
  assert_int_equal(parse("show 1m8vf7k0g3a2h4c\n", &r), 1);
  assert_int_equal(r.cmd, QCTL_SHOW); assert_int_equal(r.target, QCTL_ID); assert_string_equal(r.arg, "1m8vf7k0g3a2h4c");
  assert_int_equal(parse("delete 1m8vf7k0g3a2h4c\n", &r), 1);
  assert_int_equal(r.cmd, QCTL_DELETE); assert_int_equal(r.target, QCTL_ID);
  assert_int_equal(parse("delete @Example.NET\n", &r), 1);
  assert_int_equal(r.target, QCTL_DOMAIN); assert_string_equal(r.arg, "Example.NET");
  assert_int_equal(parse("delete all\n", &r), 1);
  assert_int_equal(r.target, QCTL_ALL);
  assert_int_equal(parse("hold 000000000000\n", &r), 1);
  assert_int_equal(r.cmd, QCTL_HOLD);
  assert_int_equal(parse("release 000000000000\n", &r), 1);
  assert_int_equal(r.cmd, QCTL_RELEASE);
  assert_int_equal(parse("retry all\n", &r), 1);
  assert_int_equal(r.cmd, QCTL_RETRY); assert_int_equal(r.target, QCTL_ALL);
  assert_int_equal(parse("retry @[127.0.0.1]\n", &r), 1);
  assert_string_equal(r.arg, "[127.0.0.1]");
  assert_int_equal(parse("retry 000000000000\nlist\n", &r), 1);   /* one line at a time */
}

static void t_invalid(void **st)
{
  struct qctl_req r;
  char big[QCTL_LINE_MAX + 10];
  size_t used;
  (void)st;
  static const char *const bad[] = {
    "\n", "LIST\n", "list \n", "list all\n", "list 000000000000\n", "show\n", "show all\n", "show @a.b\n",
    "show 00000000000\n", "show 00000000000i\n", "show 0000000000000000000000000\n", "hold all\n", "hold @x\n",
    "release all\n", "retry\n", "retry @\n", "retry @a b\n", "retry @a@b\n", "retry @a/b\n", "delete  all\n",
    "delete all \n", "delete all\r\n", " list\n", "list\r\n", "frob\n", "retry al\n", "retry ALL\n",
    "delete\n", "show 000000000000 000000000000\n", "lis\n", "listx\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(parse(bad[i], &r), -1);
  assert_int_equal(qctl_parse("list\0\n", 6, &r, &used), -1);
  /* not yet a line */
  assert_int_equal(qctl_parse("lis", 3, &r, &used), 0);
  assert_int_equal(qctl_parse("", 0, &r, &used), 0);
  /* the domain limit, and the line limit */
  memset(big, 'a', sizeof big);
  memcpy(big, "retry @", 7);
  big[7 + QCTL_DOMAIN_MAX] = '\n';
  assert_int_equal(qctl_parse(big, 8 + QCTL_DOMAIN_MAX, &r, &used), 1);
  assert_int_equal(strlen(r.arg), QCTL_DOMAIN_MAX);
  big[7 + QCTL_DOMAIN_MAX] = 'a';
  big[8 + QCTL_DOMAIN_MAX] = '\n';
  assert_int_equal(qctl_parse(big, 9 + QCTL_DOMAIN_MAX, &r, &used), -1);
  memset(big, 'a', sizeof big);
  assert_int_equal(qctl_parse(big, QCTL_LINE_MAX - 1, &r, &used), 0);
  assert_int_equal(qctl_parse(big, QCTL_LINE_MAX, &r, &used), -1);
  assert_int_equal(qctl_parse(big, sizeof big, &r, &used), -1);
  big[QCTL_LINE_MAX] = '\n';   /* an LF past the limit counts for nothing */
  assert_int_equal(qctl_parse(big, sizeof big, &r, &used), -1);
}

static void t_fmt(void **st)
{
  static const char *const lines[] = { "list\n", "show 1m8vf7k0g3a2h4c\n", "delete @x.y\n", "delete all\n",
                                       "hold 000000000000\n", "release 000000000000\n", "retry all\n", "retry @a\n" };
  (void)st;
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    struct qctl_req r;
    char out[QCTL_LINE_MAX];
    size_t n;
    assert_int_equal(parse(lines[i], &r), 1);
    n = qctl_fmt(out, &r);
    assert_int_equal(n, strlen(lines[i]));
    assert_memory_equal(out, lines[i], n);
  }
  {
    struct qctl_req r;
    char out[QCTL_LINE_MAX];
    memset(&r, 0, sizeof r);
    r.cmd = QCTL_SHOW; r.target = QCTL_ID;
    strcpy(r.arg, "bad id");
    assert_int_equal(qctl_fmt(out, &r), 0);
    r.cmd = 99;
    assert_int_equal(qctl_fmt(out, &r), 0);
    r.cmd = QCTL_HOLD; r.target = QCTL_ALL;
    assert_int_equal(qctl_fmt(out, &r), 0);
  }
}

static void t_domain_age(void **st)
{
  char b[24];
  (void)st;
  assert_true(qctl_domain_is("bob@Example.NET", 15, "example.net"));
  assert_true(qctl_domain_is("a@b@x.y", 7, "X.Y"));
  assert_false(qctl_domain_is("bob@example.net", 15, "example.ne"));
  assert_false(qctl_domain_is("bob@example.net", 15, "xample.net"));
  assert_false(qctl_domain_is("example.net", 11, "example.net"));
  assert_false(qctl_domain_is("bob@example.net", 14, "example.net"));
  assert_int_equal(qctl_age(b, 0), 2); assert_string_equal(b, "0s");
  qctl_age(b, 59); assert_string_equal(b, "59s");
  qctl_age(b, 60); assert_string_equal(b, "1m");
  qctl_age(b, 7199); assert_string_equal(b, "1h");
  qctl_age(b, 86400 * 3 + 5); assert_string_equal(b, "3d");
  qctl_age(b, UINT64_MAX); assert_true(strlen(b) < 24);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_valid), cmocka_unit_test(t_invalid), cmocka_unit_test(t_fmt), cmocka_unit_test(t_domain_age),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
