/* common/dkimcanon.c: RFC 6376 section 3.4.5's example, bare LF read as
   CRLF, the body fed in every split, empty bodies, header unfolding, From
   domains. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/dkimcanon.h"

struct sink { size_t n; char b[4096]; };

static void put(void *ctx, const char *s, size_t n)
{
  struct sink *k = ctx;
  assert_true(k->n + n <= sizeof k->b);
  memcpy(k->b + k->n, s, n);
  k->n += n;
}

/* the relaxed body of s, fed whole and in pieces of every size */
static void body_is(const char *s, const char *want)
{
  size_t n = strlen(s);
  for (size_t step = 0; step <= n; step++) {
    struct dkim_body b = DKIM_BODY_ZERO;
    struct sink k;
    k.n = 0;
    if (!step) dkim_body_feed(&b, s, n, put, &k);
    else for (size_t i = 0; i < n; i += step) dkim_body_feed(&b, s + i, i + step <= n ? step : n - i, put, &k);
    dkim_body_end(&b, put, &k);
    k.b[k.n] = 0;
    assert_int_equal(k.n, strlen(want));
    assert_string_equal(k.b, want);
  }
}

static void t_body(void **st)
{
  (void)st;
  /* RFC 6376 section 3.4.5 */
  body_is(" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n");
  body_is(" C \nD \t E\n\n\n", " C\r\nD E\r\n");
  body_is("", "");
  body_is("\r\n", "");
  body_is("\n\n \t\n", "");
  body_is("abc", "abc\r\n");
  body_is("a\n\nb\n\n", "a\r\n\r\nb\r\n");
  body_is("a\r\r\nb", "a\r\r\nb\r\n");       /* a lone CR is a byte of the line */
  body_is("a\r", "a\r\r\n");
  body_is("\r", "\r\r\n");
  body_is("x \r", "x \r\r\n");
  body_is("\t\tindent\n", " indent\r\n");
  body_is("caf\xc3\xa9 \xff\n", "caf\xc3\xa9 \xff\r\n");  /* 8-bit bytes as they are */
}

static void header_is(const char *f, int crlf, const char *want)
{
  char out[512];
  size_t n = dkim_relax_header(out, f, strlen(f), crlf);
  out[n] = 0;
  assert_string_equal(out, want);
}

static void t_header(void **st)
{
  const char *h = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\n";
  size_t l1, l2;
  (void)st;
  /* RFC 6376 section 3.4.5 */
  l1 = dkim_field_len(h, strlen(h));
  assert_int_equal(l1, 6);
  l2 = dkim_field_len(h + l1, strlen(h) - l1);
  assert_int_equal(l2, 14);
  assert_int_equal(dkim_field_len(h + l1 + l2, strlen(h) - l1 - l2), 0);
  assert_int_equal(dkim_blank_len(h + l1 + l2, 2), 2);
  assert_int_equal(dkim_blank_len("\nx", 2), 1);
  assert_int_equal(dkim_blank_len("x\n", 2), 0);
  header_is("A: X\r\n", 1, "a:X\r\n");
  header_is("B : Y\t\r\n\tZ  \r\n", 1, "b:Y Z\r\n");
  header_is("B : Y\t\n\tZ  \n", 1, "b:Y Z\r\n");
  header_is("Subject: a : b\n", 1, "subject:a : b\r\n");
  header_is("Subject:\n", 1, "subject:\r\n");
  header_is("Subject:   \n  \n", 1, "subject:\r\n");
  header_is("DKIM-Signature: v=1; b=\n", 0, "dkim-signature:v=1; b=");
  header_is("X: a\rb\n", 1, "x:a\rb\r\n");
  assert_int_equal(dkim_relax_header((char[16]){0}, "no colon\n", 9, 1), 0);
  assert_int_equal(dkim_relax_header((char[16]){0}, " : x\n", 5, 1), 0);
  assert_int_equal(dkim_field_len("Last: x", 7), 7);
  assert_int_equal(dkim_field_len("A: x\n y\n z\nB: q\n", 16), 11);
  assert_int_equal(dkim_field_len("", 0), 0);
  assert_int_equal(dkim_field_is("From : x\n", 9, "from"), 1);
  assert_int_equal(dkim_field_is("FROM: x\n", 8, "from"), 1);
  assert_int_equal(dkim_field_is("From-x: x\n", 10, "from"), 0);
  assert_int_equal(dkim_field_is("Fro: x\n", 7, "from"), 0);
}

static void t_from(void **st)
{
  static const struct { const char *f, *dom; } rows[] = {
    { "From: a@Example.COM\n", "example.com" },
    { "From: Ann <ann@demo.test>\n", "demo.test" },
    { "From: \"x@evil.test\" <ann@demo.test>\n", "demo.test" },
    { "From: ann@demo.test (x@evil.test)\n", "demo.test" },
    { "From: \"Doe, Ann\" <ann@demo.test>\n", "demo.test" },
    { "From: Ann\n <ann@demo.test>\n", "demo.test" },
    { "From: \"a@b\"@demo.test\n", "demo.test" },
    { "From: a@x.test, b@y.test\n", "" },
    { "From: <a@x.test>, <b@y.test>\n", "" },
    { "From: nobody\n", "" },
    { "From: a@\n", "" },
    { "From: a@.x\n", "" },
    { "From: a@x..y\n", "" },
    { "From: a@x/y\n", "" },
    { "From: a@x_y\n", "" },
    { "From: a@[127.0.0.1]\n", "" },
    { "From\n", "" },
  };
  char d[256];
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = dkim_from_domain(d, sizeof d, rows[i].f, strlen(rows[i].f));
    assert_string_equal(d, rows[i].dom);
    assert_int_equal(n, strlen(rows[i].dom));
  }
  assert_int_equal(dkim_from_domain(d, 5, "From: a@demo.test\n", 18), 0);
  assert_int_equal(dkim_from_domain(d, 10, "From: a@demo.test\n", 18), 9);
}

static void t_names(void **st)
{
  (void)st;
  assert_int_equal(dkim_name_ok("demo.test"), 1);
  assert_int_equal(dkim_name_ok("tern_2026"), 1);
  assert_int_equal(dkim_name_ok(""), 0);
  assert_int_equal(dkim_name_ok("."), 0);
  assert_int_equal(dkim_name_ok(".."), 0);
  assert_int_equal(dkim_name_ok("a/b"), 0);
  assert_int_equal(dkim_name_ok("a..b"), 0);
  assert_int_equal(dkim_name_ok("Demo"), 0);
  assert_int_equal(dkim_name_ok("a b"), 0);
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(t_body), cmocka_unit_test(t_header), cmocka_unit_test(t_from), cmocka_unit_test(t_names),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
