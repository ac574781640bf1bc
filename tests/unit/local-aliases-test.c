/* local/aliases.c: the aliases(5) parser of tern-newaliases, with hostile
   input (long lines and entries, missing colon, NUL bytes, bad names,
   quotes, continuation without an entry). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "local/aliases.h"

/* every callback appends a line to out: "E line name type:value|..." or "X line why" */
static char out[1 << 20];
static size_t outlen;

static void put(const char *s, size_t n)
{
  if (n > sizeof out - outlen - 1) n = sizeof out - outlen - 1;
  memcpy(out + outlen, s, n);
  outlen += n;
  out[outlen] = 0;
}

static void on_entry(void *ctx, unsigned long line, const char *name, size_t nlen, const struct alias_value *v, size_t nv)
{
  char b[64];
  (void)ctx;
  assert_int_equal(strlen(name), nlen);
  snprintf(b, sizeof b, "E%lu %s", line, "");
  put(b, strlen(b));
  put(name, nlen);
  for (size_t i = 0; i < nv; i++) {
    assert_int_equal(strlen(v[i].s), v[i].len);
    snprintf(b, sizeof b, " %c:", "?AFPI"[v[i].type]);
    put(b, strlen(b));
    put(v[i].s, v[i].len);
  }
  put("\n", 1);
}

static void on_err(void *ctx, unsigned long line, const char *why)
{
  char b[200];
  (void)ctx;
  snprintf(b, sizeof b, "X%lu %s\n", line, why);
  put(b, strlen(b));
}

static void on_addr(void *ctx, unsigned long line, const char *a, size_t len)
{
  char b[64];
  (void)ctx;
  assert_int_equal(strlen(a), len);
  snprintf(b, sizeof b, "A%lu ", line);
  put(b, strlen(b));
  put(a, len);
  put("\n", 1);
}

static long parse(const char *s, size_t n)
{
  outlen = 0; out[0] = 0;
  return aliases_parse(s, n, on_entry, on_err, 0);
}
#define P(s) parse(s, sizeof s - 1)

static void test_basic(void **st)
{
  (void)st;
  assert_int_equal(P("# Debian default\npostmaster: root\nRoot:  joe, \\joe ,<j@x.test>\n"), 2);
  assert_string_equal(out, "E2 postmaster A:root\nE3 root A:joe A:joe A:j@x.test\n");
  assert_int_equal(P("list: a@x.test,\n  b@x.test,\n\tc\n\nlog: /var/log/mail.copy\n"), 2);
  assert_string_equal(out, "E1 list A:a@x.test A:b@x.test A:c\nE5 log F:/var/log/mail.copy\n");
  assert_int_equal(P("p: |/usr/bin/procmail -f-, \"|/bin/cat > /dev/null, really\"\r\n"), 1);
  assert_string_equal(out, "E1 p P:/usr/bin/procmail -f- P:/bin/cat > /dev/null, really\n");
  assert_int_equal(P("staff: :include:/etc/mail/staff , :INCLUDE: /x\n"), 1);
  assert_string_equal(out, "E1 staff I:/etc/mail/staff I:/x\n");
  assert_int_equal(P("john.doe : jd\nno-newline-at-end: x"), 2);
  assert_string_equal(out, "E1 john.doe A:jd\nE2 no-newline-at-end A:x\n");
  /* a comment between continuation lines does not end the entry */
  assert_int_equal(P("a: b,\n# note\n c\n"), 1);
  assert_string_equal(out, "E1 a A:b A:c\n");
}

static void test_hostile(void **st)
{
  static char big[ALIASES_ENTRY_MAX + 100];
  (void)st;
  assert_int_equal(P("nocolon root\ngood: x\n"), 1);
  assert_string_equal(out, "X1 no ':' after the alias name\nE2 good A:x\n");
  assert_int_equal(P(" leading: x\nok: y\n"), 1);
  assert_string_equal(out, "X1 continuation line without an entry\nE2 ok A:y\n");
  assert_int_equal(parse("a: b\0c\nd: e\n", 12), 1);
  assert_string_equal(out, "X1 NUL byte\nE2 d A:e\n");
  assert_int_equal(P(": root\nx/y: root\nfoo bar: root\nempty:\nempty2: , ,\n"), 0);
  assert_int_equal(P("default: root\nlist-default: root\nnewaliases-list: x\n"), 0);
  assert_int_equal(P("a: \"unbalanced\nb: x\"y\nc: \"q\"tail\nd: <a@b>c\ne: a@b@c\nf: @x\ng: x@\nh: |\ni: rel/file\nj: /f ile\n"), 1);
  assert_non_null(strstr(out, "E9 i A:rel/file\n"));   /* an address, as sendmail reads it */
  assert_int_equal(P("k: a b\nl: -opt\nm: :include:relative\nn: |a\001b\no: a(b)\np: \"\"\n"), 0);
  /* one entry longer than ALIASES_ENTRY_MAX, then a good one */
  memcpy(big, "big: ", 5);
  memset(big + 5, 'a', sizeof big - 5);
  big[sizeof big - 20] = '\n';
  memcpy(big + sizeof big - 19, "next: ok\n", 9);
  assert_int_equal(parse(big, sizeof big - 10), 1);
  assert_non_null(strstr(out, "X1 entry too long\n"));
  assert_non_null(strstr(out, "E2 next A:ok\n"));
  /* a long entry made of continuation lines */
  {
    static char cont[ALIASES_ENTRY_MAX * 2];
    size_t n = 0;
    memcpy(cont, "c: x", 4); n = 4;
    while (n + 10 < sizeof cont) { memcpy(cont + n, ",\n y@z.test", 11); n += 11; }
    assert_int_equal(parse(cont, n), 0);
    assert_string_equal(out, "X1 entry too long\n");
  }
  /* the file size limit */
  assert_int_equal(aliases_parse(big, (size_t)ALIASES_FILE_MAX + 1, on_entry, on_err, 0), -1);
  /* an address of exactly the limit, and one over */
  {
    static char a[ALIASES_ADDR_MAX + 20];
    memcpy(a, "l: ", 3);
    memset(a + 3, 'b', ALIASES_ADDR_MAX);
    assert_int_equal(parse(a, 3 + ALIASES_ADDR_MAX), 1);
    a[3 + ALIASES_ADDR_MAX] = 'b';
    assert_int_equal(parse(a, 4 + ALIASES_ADDR_MAX), 0);
  }
  /* too many values */
  {
    static char m[ALIASES_VALUES_MAX * 2 + 20];
    size_t n = 3;
    memcpy(m, "m: ", 3);
    for (int i = 0; i <= ALIASES_VALUES_MAX; i++) { m[n++] = 'v'; m[n++] = ','; }
    assert_int_equal(parse(m, n), 0);
    assert_string_equal(out, "X1 too many values\n");
  }
}

static void test_list(void **st)
{
  (void)st;
  outlen = 0;
  assert_int_equal(aliases_parse_list("# staff\na@x.test, b\n\n  c@y.test  \n", 33, on_addr, on_err, 0), 3);
  assert_string_equal(out, "A2 a@x.test\nA2 b\nA4 c@y.test\n");
  outlen = 0;
  assert_int_equal(aliases_parse_list("|cmd\n/file\n:include:/x\nok\nx\0y\n", 30, on_addr, on_err, 0), 1);
  assert_string_equal(out, "X1 only addresses are allowed in an :include: file\n"
                           "X2 only addresses are allowed in an :include: file\n"
                           "X3 only addresses are allowed in an :include: file\nA4 ok\nX5 NUL byte\n");
}

static void test_value(void **st)
{
  char b[64];
  struct alias_value v;
  (void)st;
  strcpy(b, "|x");
  assert_null(aliases_value(b, 2, &v));
  assert_int_equal(v.type, ALIAS_PROG);
  assert_string_equal(v.s, "x");
  strcpy(b, "/var/mail/");
  assert_null(aliases_value(b, 10, &v));
  assert_int_equal(v.type, ALIAS_FILE);
  assert_non_null(aliases_value(b, 0, &v));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_basic),
    cmocka_unit_test(test_hostile),
    cmocka_unit_test(test_list),
    cmocka_unit_test(test_value),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
