/* send/mtasts.c: the MTA-STS policy file, the _mta-sts TXT record, MX
   matching with wildcards, and the cache entry round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "send/mtasts.h"

static int parse(const char *s, struct mtasts_policy *p) { return mtasts_parse(s, strlen(s), p); }

static void t_policy(void **st)
{
  struct mtasts_policy p;
  (void)st;
  assert_int_equal(parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.NET.\r\nmax_age: 86400\r\n", &p), 0);
  assert_int_equal(p.mode, MTASTS_ENFORCE);
  assert_int_equal(p.max_age, 86400);
  assert_int_equal(p.nmx, 2);
  assert_string_equal(p.mx[0], "mail.example.com");
  assert_string_equal(p.mx[1], "*.example.net");
  /* LF only, no final newline, blanks around values, unknown keys, any key case */
  assert_int_equal(parse("version:STSv1\nMode:\ttesting \nmx: a.test\nfoo_bar: whatever\nmax_age:0", &p), 0);
  assert_int_equal(p.mode, MTASTS_TESTING);
  assert_int_equal(p.max_age, 0);
  /* mode none needs no mx; the first mode counts */
  assert_int_equal(parse("version: STSv1\nmode: none\nmax_age: 31557600\nmode: enforce\n", &p), 0);
  assert_int_equal(p.mode, MTASTS_NONE);
  assert_int_equal(p.nmx, 0);
  assert_string_equal(mtasts_mode_name(MTASTS_ENFORCE), "enforce");
}

static void t_policy_bad(void **st)
{
  static const char *bad[] = {
    "",
    "version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n",
    "mode: enforce\nmx: a.test\nmax_age: 1\n",                    /* no version */
    "version: STSv1\nmx: a.test\nmax_age: 1\n",                   /* no mode */
    "version: STSv1\nmode: enforce\nmx: a.test\n",                /* no max_age */
    "version: STSv1\nmode: enforce\nmax_age: 1\n",                /* enforce without mx */
    "version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1\n",
    "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n",
    "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 12345678901\n",
    "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n",
    "version: STSv1\nmode: enforce\nmx: a_b.test\nmax_age: 1\n",
    "version: STSv1\nmode: enforce\nmx: *.*.test\nmax_age: 1\n",
    "version: STSv1\nmode: enforce\nmx: -a.test\nmax_age: 1\n",
    "version: STSv1\nmode: enforce\nmx: a..test\nmax_age: 1\n",
    "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1\nno colon here\n",
    "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1\n: empty key\n",
    "version: STSv1\nmode: enforce\nmx: a.test\x01\nmax_age: 1\n",
    "<html><body>Not Found</body></html>\n",
  };
  struct mtasts_policy p;
  (void)st;
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    assert_int_equal(parse(bad[k], &p), -1);
    assert_int_equal(p.nmx, 0);
    assert_int_equal(p.mode, MTASTS_NONE);
  }
  /* a NUL inside */
  assert_int_equal(mtasts_parse("version: STSv1\0\nmode: none\nmax_age: 1\n", 38, &p), -1);
}

static void t_policy_limits(void **st)
{
  struct mtasts_policy p;
  size_t n = MTASTS_POLICY_MAX + 1, k;
  char *big = malloc(n + 64), line[64];
  (void)st;
  assert_non_null(big);
  strcpy(big, "version: STSv1\nmode: none\nmax_age: 1\n");
  for (k = strlen(big); k < n; k++) big[k] = '\n';
  assert_int_equal(mtasts_parse(big, MTASTS_POLICY_MAX, &p), 0);        /* 64 KiB of blank lines: still a policy */
  assert_int_equal(mtasts_parse(big, MTASTS_POLICY_MAX + 1, &p), -1);   /* one byte more: none */
  free(big);
  /* MTASTS_MX_MAX mx lines, and one more */
  big = malloc(100 * (MTASTS_MX_MAX + 2));
  assert_non_null(big);
  strcpy(big, "version: STSv1\nmode: enforce\nmax_age: 1\n");
  for (k = 0; k < MTASTS_MX_MAX; k++) { snprintf(line, sizeof line, "mx: mx%zu.test\n", k); strcat(big, line); }
  assert_int_equal(parse(big, &p), 0);
  assert_int_equal(p.nmx, MTASTS_MX_MAX);
  strcat(big, "mx: one.more.test\n");
  assert_int_equal(parse(big, &p), -1);
  free(big);
}

static void t_txt(void **st)
{
  char id[MTASTS_ID_MAX + 1];
  (void)st;
  assert_int_equal(mtasts_txt("v=STSv1; id=20160831085700Z;", 28, id), 1);
  assert_string_equal(id, "20160831085700Z");
  assert_int_equal(mtasts_txt("v=STSv1;id=abc", 14, id), 1);
  assert_string_equal(id, "abc");
  assert_int_equal(mtasts_txt("v=STSv1; ext=1 ; id=A1 ; x=y", 28, id), 1);
  assert_string_equal(id, "A1");
  assert_int_equal(mtasts_txt("v=spf1 -all", 11, id), 0);
  assert_int_equal(mtasts_txt("v=STSv", 6, id), 0);
  assert_int_equal(mtasts_txt("v=STSv1", 7, id), -1);                      /* no id */
  assert_int_equal(mtasts_txt("v=STSv1; id=", 12, id), -1);
  assert_int_equal(mtasts_txt("v=STSv1; id=a-b", 15, id), -1);
  assert_int_equal(mtasts_txt("v=STSv1; id=123456789012345678901234567890123", 45, id), -1);   /* 33 */
  assert_int_equal(mtasts_txt("v=STSv1; id=12345678901234567890123456789012", 44, id), 1);     /* 32 */
  assert_int_equal(mtasts_txt("v=STSv1; garbage", 16, id), -1);
  assert_int_equal(mtasts_txt("v=STSv1 id=x", 12, id), -1);
}

static void t_match(void **st)
{
  struct mtasts_policy p;
  (void)st;
  assert_int_equal(parse("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1\n", &p), 0);
  assert_int_equal(mtasts_mx_match(&p, "mail.example.com"), 1);
  assert_int_equal(mtasts_mx_match(&p, "MAIL.Example.com."), 1);
  assert_int_equal(mtasts_mx_match(&p, "mail2.example.com"), 0);
  assert_int_equal(mtasts_mx_match(&p, "mx1.example.net"), 1);
  assert_int_equal(mtasts_mx_match(&p, "example.net"), 0);          /* the wildcard needs one label */
  assert_int_equal(mtasts_mx_match(&p, "a.b.example.net"), 0);      /* and only one */
  assert_int_equal(mtasts_mx_match(&p, ".example.net"), 0);
  assert_int_equal(mtasts_mx_match(&p, ""), 0);
}

static void t_domain(void **st)
{
  (void)st;
  assert_int_equal(mtasts_domain_ok("example.com"), 1);
  assert_int_equal(mtasts_domain_ok("a-b.example"), 1);
  assert_int_equal(mtasts_domain_ok(""), 0);
  assert_int_equal(mtasts_domain_ok("Example.com"), 0);
  assert_int_equal(mtasts_domain_ok(".example.com"), 0);
  assert_int_equal(mtasts_domain_ok("-x.com"), 0);
  assert_int_equal(mtasts_domain_ok("../../etc/passwd"), 0);
  assert_int_equal(mtasts_domain_ok("a..b"), 0);
  assert_int_equal(mtasts_domain_ok("a/b"), 0);
  assert_int_equal(mtasts_domain_ok("[127.0.0.1]"), 0);
}

static void t_cache(void **st)
{
  char b[MTASTS_CACHE_MAX];
  static const char pol[] = "version: STSv1\nmode: testing\nmx: *.example.net\nmax_age: 600\n";
  struct mtasts_cache c;
  size_t n;
  (void)st;
  n = mtasts_cache_head(b, "id1", 100, 700, 650, "fetched\x01 ok");
  memcpy(b + n, pol, sizeof pol - 1);
  assert_int_equal(mtasts_cache_parse(b, n + sizeof pol - 1, &c), 0);
  assert_string_equal(c.id, "id1");
  assert_true(c.fetched == 100 && c.expires == 700 && c.checked == 650);
  assert_string_equal(c.note, "fetched? ok");
  assert_int_equal(c.havepolicy, 1);
  assert_int_equal(c.pol.mode, MTASTS_TESTING);
  /* no policy: "-" and nothing after the note */
  n = mtasts_cache_head(b, "", 0, 0, 42, "");
  assert_int_equal(mtasts_cache_parse(b, n, &c), 0);
  assert_string_equal(c.id, "");
  assert_string_equal(c.note, "-");
  assert_int_equal(c.havepolicy, 0);
  assert_true(c.checked == 42);
  b[n] = 'x';
  assert_int_equal(mtasts_cache_parse(b, n + 1, &c), -1);
  /* a policy that does not parse, a bad header */
  n = mtasts_cache_head(b, "id1", 1, 2, 3, "n");
  memcpy(b + n, "junk\n", 5);
  assert_int_equal(mtasts_cache_parse(b, n + 5, &c), -1);
  assert_int_equal(mtasts_cache_parse("tern-mta-sts 2 - 0 0 0\nx\n", 25, &c), -1);
  assert_int_equal(mtasts_cache_parse("tern-mta-sts 1 - 0 0\nx\n", 23, &c), -1);
  assert_int_equal(mtasts_cache_parse("tern-mta-sts 1 a/b 0 0 0\nx\n", 27, &c), -1);
  assert_int_equal(mtasts_cache_parse("tern-mta-sts 1 - 0 0 0\n\n", 24, &c), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_policy), cmocka_unit_test(t_policy_bad), cmocka_unit_test(t_policy_limits),
    cmocka_unit_test(t_txt), cmocka_unit_test(t_match), cmocka_unit_test(t_domain), cmocka_unit_test(t_cache),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
