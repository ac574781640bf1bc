/* queue-hdr-test: queue/hdr.c (input filter, field names, address lists),
   including hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "queue/hdr.h"

/* run the whole input through the filter in chunks of size step */
static size_t filt(const char *in, size_t len, int dotend, size_t step, char *out, int *ended)
{
  struct hdr_filter f = HDR_FILTER_ZERO;
  size_t o = 0, p = 0;
  f.dotend = dotend;
  while (p < len && !f.ended) {
    size_t n = len - p < step ? len - p : step, used;
    o += hdr_filter_feed(&f, in + p, n, out + o, &used);
    p += used;
  }
  o += hdr_filter_end(&f, out + o);
  out[o] = 0;
  if (ended) *ended = f.ended;
  return o;
}

static void check_filter(const char *in, int dotend, const char *want, int want_ended)
{
  char out[4096];
  size_t len = strlen(in);
  for (size_t step = 1; step <= len + 1; step++) {
    int ended;
    size_t o = filt(in, len, dotend, step, out, &ended);
    assert_int_equal(o, strlen(want));
    assert_string_equal(out, want);
    assert_int_equal(ended, want_ended);
  }
}

static void test_filter_crlf(void **st)
{
  (void)st;
  check_filter("a\r\nb\r\n", 0, "a\nb\n", 0);
  check_filter("a\nb", 0, "a\nb\n", 0);            /* final LF added */
  check_filter("a\rb\r\n", 0, "a\rb\n", 0);        /* bare CR kept */
  check_filter("a\r", 0, "a\r\n", 0);
  check_filter("", 0, "", 0);
  check_filter("\r\n\r\n", 0, "\n\n", 0);
}

static void test_filter_dot(void **st)
{
  (void)st;
  check_filter("a\n.\nb\n", 1, "a\n", 1);
  check_filter("a\r\n.\r\nb\r\n", 1, "a\n", 1);
  check_filter(".\n", 1, "", 1);
  check_filter("a\n.\nb\n", 0, "a\n.\nb\n", 0);    /* -i */
  check_filter("a\n..\nb\n", 1, "a\n..\nb\n", 0);  /* no unstuffing */
  check_filter("a\n.x\n", 1, "a\n.x\n", 0);
  check_filter("a\n.\rx\n", 1, "a\n.\rx\n", 0);
  check_filter("a\n.", 1, "a\n.\n", 0);            /* a dot at EOF is data */
  check_filter("a\n.\r", 1, "a\n.\r\n", 0);
  check_filter("x.\ny\n", 1, "x.\ny\n", 0);
}

static void test_field(void **st)
{
  size_t n;
  (void)st;
  assert_int_equal(hdr_field("Subject: x\n", 11, &n), 1); assert_int_equal(n, 7);
  assert_int_equal(hdr_field("X-A:\n", 5, &n), 1); assert_int_equal(n, 3);
  assert_int_equal(hdr_field("No colon here\n", 14, &n), 0);
  assert_int_equal(hdr_field(": empty name\n", 13, &n), 0);
  assert_int_equal(hdr_field("Sp ace: x\n", 10, &n), 0);
  assert_int_equal(hdr_field(" cont: x\n", 9, &n), 0);
  assert_int_equal(hdr_field("\x80x: y\n", 6, &n), 0);
  assert_int_equal(hdr_field("abc", 3, &n), 0);
  assert_int_equal(hdr_is("bcc: x\n", 7, "Bcc"), 1);
  assert_int_equal(hdr_is("BCC:x\n", 6, "Bcc"), 1);
  assert_int_equal(hdr_is("Bccx: x\n", 8, "Bcc"), 0);
  assert_int_equal(hdr_is("Bc", 2, "Bcc"), 0);
  assert_int_equal(hdr_is("Bcc", 3, "Bcc"), 0);
}

struct col { char s[4096]; size_t n; int stop_at; };

static int collect(void *ctx, const char *a, size_t len)
{
  struct col *c = ctx;
  assert_int_equal(strlen(a), len);
  memcpy(c->s + c->n, a, len); c->n += len;
  c->s[c->n++] = '|';
  c->s[c->n] = 0;
  return c->stop_at && --c->stop_at == 0;
}

static int count_only(void *ctx, const char *a, size_t len)
{
  (void)ctx; (void)a; (void)len;
  return 0;
}

static int list(const char *s, char *out)
{
  struct col c;
  int r;
  c.n = 0; c.s[0] = 0; c.stop_at = 0;
  r = hdr_addrlist(s, strlen(s), &collect, &c);
  strcpy(out, c.s);
  return r;
}

static void test_addrlist(void **st)
{
  char out[4096];
  (void)st;
  assert_int_equal(list("a@b", out), 1); assert_string_equal(out, "a@b|");
  assert_int_equal(list(" a@b , c@d ", out), 2); assert_string_equal(out, "a@b|c@d|");
  assert_int_equal(list("\"Smith, John\" <js@x>, Jane Doe <jd@x>", out), 2);
  assert_string_equal(out, "js@x|jd@x|");
  assert_int_equal(list("cc@x (Carbon, Copy)", out), 1); assert_string_equal(out, "cc@x|");
  assert_int_equal(list("(c (nested) x) a@b", out), 1); assert_string_equal(out, "a@b|");
  assert_int_equal(list("undisclosed-recipients:;", out), 0); assert_string_equal(out, "");
  assert_int_equal(list("team: a@b, c@d; e@f", out), 3); assert_string_equal(out, "a@b|c@d|e@f|");
  assert_int_equal(list("<@r1,@r2:u@h>", out), 1); assert_string_equal(out, "u@h|");
  assert_int_equal(list("\"john smith\"@x", out), 1); assert_string_equal(out, "john smith@x|");
  assert_int_equal(list("\"a\\\"b\"@x", out), 1); assert_string_equal(out, "a\"b@x|");
  assert_int_equal(list("u@[192.0.2.1]", out), 1); assert_string_equal(out, "u@[192.0.2.1]|");
  assert_int_equal(list("local", out), 1); assert_string_equal(out, "local|");
  assert_int_equal(list("a@b,\n\tc@d", out), 2); assert_string_equal(out, "a@b|c@d|");
  assert_int_equal(list(",,, ,", out), 0);
  assert_int_equal(list("", out), 0);
  assert_int_equal(list("<a@b> trailing junk, c@d", out), 2); assert_string_equal(out, "a@b|c@d|");
}

static void test_addrlist_hostile(void **st)
{
  char out[4096];
  char *big;
  (void)st;
  assert_int_equal(list("\"unterminated@x", out), -1);
  assert_int_equal(list("(unterminated a@b", out), -1);
  assert_int_equal(list("<a@b", out), -1);
  assert_int_equal(list("<<a@b>>", out), -1);
  assert_int_equal(list("u@[1.2.3.4", out), -1);
  assert_int_equal(list("\"x\\", out), -1);
  assert_int_equal(list("a@b, \"x", out), -1);
  assert_string_equal(out, "a@b|");  /* the good one before the error was given */
  /* comments nested too deep */
  big = malloc(200);
  memset(big, '(', 100); memset(big + 100, ')', 99); big[199] = 0;
  assert_int_equal(list(big, out), -1);
  free(big);
  /* an address of exactly HDR_ADDR_MAX bytes, and one more */
  big = malloc(HDR_ADDR_MAX + 10);
  memset(big, 'x', HDR_ADDR_MAX); big[HDR_ADDR_MAX] = 0;
  {
    struct col *c = malloc(sizeof *c);
    c->n = 0; c->stop_at = 0;
    assert_int_equal(hdr_addrlist(big, HDR_ADDR_MAX, &collect, c), 1);
    assert_int_equal(c->n, HDR_ADDR_MAX + 1);
    c->n = 0;
    big[HDR_ADDR_MAX] = 'y';
    assert_int_equal(hdr_addrlist(big, HDR_ADDR_MAX + 1, &collect, c), -2);
    assert_int_equal(c->n, 0);
    /* a huge display name before <addr> is fine */
    memcpy(big, "<a@b>", 5);
    memmove(big + HDR_ADDR_MAX + 1 - 5, "<a@b>", 5);
    memset(big, 'n', HDR_ADDR_MAX + 1 - 5);
    assert_int_equal(hdr_addrlist(big, HDR_ADDR_MAX + 1, &collect, c), 1);
    free(c);
  }
  free(big);
  /* the callback stops the walk */
  {
    struct col c;
    c.n = 0; c.stop_at = 1;
    assert_int_equal(hdr_addrlist("a@b, c@d", 8, &collect, &c), -3);
  }
  /* NUL bytes and 8-bit bytes do not crash */
  assert_int_equal(hdr_addrlist("a\0b@c", 5, &count_only, 0), 1);
  assert_int_equal(list("\xff\xfe@\x80", out), 1);
}

/* hdr_addrlist_pos: where each addr-spec ends in the text */
static char posbuf[512];
static int collect_pos(void *ctx, const char *a, size_t alen, size_t end)
{
  (void)ctx;
  snprintf(posbuf + strlen(posbuf), sizeof posbuf - strlen(posbuf), "%.*s=%zu;", (int)alen, a, end);
  return 0;
}

static void test_addrlist_pos(void **state)
{
  (void)state;
  static const struct { const char *in, *want; } c[] = {
    { " bob", "bob=4;" },
    { " root (Cron Daemon)", "root=5;" },
    { "Joe <joe>, x@y (c)", "joe=8;x@y=14;" },
    { " \"a b\"@h, \"c d\"", "a b@h=8;c d=15;" },
    { " u@[1.2.3.4] ", "u@[1.2.3.4]=12;" },
    { " friends: a, b@x.+;, undisclosed-recipients:;", "a=11;b@x.+=18;" },
    { " <@r:z>", "z=6;" },
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    posbuf[0] = 0;
    assert_true(hdr_addrlist_pos(c[i].in, strlen(c[i].in), &collect_pos, 0) >= 0);
    assert_string_equal(posbuf, c[i].want);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_filter_crlf),
    cmocka_unit_test(test_filter_dot),
    cmocka_unit_test(test_field),
    cmocka_unit_test(test_addrlist),
    cmocka_unit_test(test_addrlist_hostile),
    cmocka_unit_test(test_addrlist_pos),
  };
  return cmocka_run_group_tests_name("queue-hdr", tests, 0, 0);
}
