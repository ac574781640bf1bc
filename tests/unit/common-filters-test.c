/* common/filters.c: the parser of control/filters: sources, well-formed
   and malformed lines, chains in file order per source, the chain limit,
   splitting into words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/ctl.h"
#include "common/ctl_internal.h"
#include "common/filters.h"

static void t_sources(void **st)
{
  (void)st;
  assert_int_equal(filters_source("smtp", 4), FILTERS_SMTP);
  assert_int_equal(filters_source("submission", 10), FILTERS_SUBMISSION);
  assert_int_equal(filters_source("smtps", 5), FILTERS_SMTPS);
  assert_int_equal(filters_source("local", 5), FILTERS_LOCAL);
  assert_int_equal(filters_source("bounce", 6), FILTERS_BOUNCE);
  assert_int_equal(filters_source("forward", 7), FILTERS_FORWARD);
  assert_int_equal(filters_source("smtp", 3), -1);
  assert_int_equal(filters_source("SMTP", 4), -1);
  assert_int_equal(filters_source("", 0), -1);
  assert_string_equal(filters_name(FILTERS_FORWARD), "forward");
  assert_null(filters_name(-1));
  assert_null(filters_name(FILTERS_NSOURCES));
}

static void t_line(void **st)
{
  const char *p;
  int src;
  static const char *const bad[] = {
    "smtp", "smtp:", "smtp:   ", "mx:tern-rspamc", ":x", "smtp :x", "smtp:a/b", "smtp:./x",
    "smtp:x\001", "smtp:a b c d e f g h i j k l m n o p q", "Smtp:x",
  };
  (void)st;
  assert_int_equal(filters_line("smtp:tern-rspamc", &src, &p), 0);
  assert_int_equal(src, FILTERS_SMTP);
  assert_string_equal(p, "tern-rspamc");
  assert_int_equal(filters_line("bounce: \t/usr/lib/x -a b/c", &src, &p), 0);
  assert_int_equal(src, FILTERS_BOUNCE);
  assert_string_equal(p, "/usr/lib/x -a b/c");
  assert_int_equal(filters_line("local:x a b c d e f g h i j k l m n o", &src, &p), 0);  /* 16 words */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    src = -7;
    assert_int_equal(filters_line(bad[i], &src, &p), -1);
    assert_int_equal(src, -7);
  }
}

static void parse(struct ctl_list *l, const char *s)
{
  assert_int_equal(ctl_parse_list(s, strlen(s), l), 1);
}

static void t_chain(void **st)
{
  struct ctl_list l = CTL_LIST_ZERO;
  size_t bad = 99;
  (void)st;
  parse(&l, "# the chains\nsmtp:one\nsubmission:sign\n\nsmtp:two x\r\nsmtp:three\nlocal:sign\n");
  assert_int_equal(filters_check(l.s, l.len, l.n, &bad), 0);
  assert_string_equal(filters_nth(l.s, l.len, l.n, FILTERS_SMTP, 0), "one");
  assert_string_equal(filters_nth(l.s, l.len, l.n, FILTERS_SMTP, 1), "two x");
  assert_string_equal(filters_nth(l.s, l.len, l.n, FILTERS_SMTP, 2), "three");
  assert_null(filters_nth(l.s, l.len, l.n, FILTERS_SMTP, 3));
  assert_string_equal(filters_nth(l.s, l.len, l.n, FILTERS_SUBMISSION, 0), "sign");
  assert_null(filters_nth(l.s, l.len, l.n, FILTERS_SUBMISSION, 1));
  assert_null(filters_nth(l.s, l.len, l.n, FILTERS_BOUNCE, 0));
  assert_null(filters_nth(l.s, l.len, l.n, FILTERS_FORWARD, 0));
  ctl_listfree(&l);

  parse(&l, "smtp:one\nsmtps:two\nnonsense\nlocal:x\n");
  assert_int_equal(filters_check(l.s, l.len, l.n, &bad), -1);
  assert_int_equal(bad, 2);
  ctl_listfree(&l);

  /* the empty file: no chain anywhere */
  parse(&l, "");
  assert_int_equal(filters_check(l.s, l.len, l.n, &bad), 0);
  assert_null(filters_nth(l.s, l.len, l.n, FILTERS_SMTP, 0));
  ctl_listfree(&l);

  /* FILTERS_CHAIN_MAX lines for one source, then one more */
  {
    char b[512] = "";
    for (int i = 0; i < FILTERS_CHAIN_MAX; i++) strcat(b, "forward:f\n");
    parse(&l, b);
    assert_int_equal(filters_check(l.s, l.len, l.n, &bad), 0);
    ctl_listfree(&l);
    strcat(b, "smtp:s\nforward:f\n");
    parse(&l, b);
    assert_int_equal(filters_check(l.s, l.len, l.n, &bad), -1);
    assert_int_equal(bad, FILTERS_CHAIN_MAX + 1);
    ctl_listfree(&l);
  }
}

static void t_split(void **st)
{
  char buf[32], *argv[FILTERS_ARGV_MAX + 1];
  (void)st;
  assert_int_equal(filters_split("tern-rspamc", buf, sizeof buf, argv), 1);
  assert_string_equal(argv[0], "tern-rspamc");
  assert_null(argv[1]);
  assert_int_equal(filters_split("  /bin/x \t-a  b\t", buf, sizeof buf, argv), 3);
  assert_string_equal(argv[0], "/bin/x");
  assert_string_equal(argv[1], "-a");
  assert_string_equal(argv[2], "b");
  assert_null(argv[3]);
  assert_int_equal(filters_split("", buf, sizeof buf, argv), 0);
  assert_null(argv[0]);
  /* exactly fills buf: 31 bytes and the NUL */
  assert_int_equal(filters_split("0123456789012345678901234567890", buf, sizeof buf, argv), 1);
  assert_int_equal(filters_split("01234567890123456789012345678901", buf, sizeof buf, argv), -1);
  assert_int_equal(filters_split("a b c d e f g h i j k l m n o p q", buf, sizeof buf, argv), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_sources),
    cmocka_unit_test(t_line),
    cmocka_unit_test(t_chain),
    cmocka_unit_test(t_split),
  };
  return cmocka_run_group_tests_name("common-filters", tests, 0, 0);
}
