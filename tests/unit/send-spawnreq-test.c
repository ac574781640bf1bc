/* send-spawnreq-test: send/spawnreq.c, the framer of tern-send's spawner
   requests: one row per input with the expected result, the limits at
   their edge and one past it, and a stream cut at every byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "send/spawnreq.h"

#define S(x) x, sizeof x - 1

struct row { const char *in; size_t len; int ret; size_t used; size_t nrcpt; };

static const struct row rows[] = {
  { S(""), SPAWNREQ_MORE, 0, 0 },
  { S("\x05"), SPAWNREQ_MORE, 0, 0 },
  { S("\x05" "12"), SPAWNREQ_MORE, 0, 0 },
  { S("\x05" "12\0"), SPAWNREQ_MORE, 0, 0 },
  { S("\x05" "12\0a@b\0"), SPAWNREQ_MORE, 0, 0 },
  { S("\x05" "12\0a@b\0c@d\0"), SPAWNREQ_MORE, 0, 0 },
  { S("\x05" "12\0a@b\0c@d\0\0"), SPAWNREQ_OK, 13, 1 },
  { S("\x05" "12\0a@b\0c@d\0\0\x06"), SPAWNREQ_OK, 13, 1 },     /* the next one begins */
  { S("\x05" "12\0\0c@d\0\0"), SPAWNREQ_OK, 10, 1 },            /* null sender */
  { S("\x05" "12\0a@b\0\0"), SPAWNREQ_OK, 9, 0 },               /* no recipient: the spawner decides */
  { S("\x05" "12\0\0\0"), SPAWNREQ_OK, 6, 0 },
  { S("\x05" "12\0a@b\0c@d\0e@f\0\0"), SPAWNREQ_OK, 17, 2 },
  { S("\x00" "1\0\0x\0\0"), SPAWNREQ_OK, 7, 1 },                /* slot 0 */
  { S("\xff" "1\0\0x\0\0"), SPAWNREQ_OK, 7, 1 },                /* slot out of range: framed */
  { S("\x05" "12x\0\0x\0\0"), SPAWNREQ_OK, 9, 1 },              /* N not decimal: framed */
  { S("\x05" "\0a@b\0c@d\0\0"), SPAWNREQ_ENUM, 0, 0 },          /* empty N */
  { S("\x05" "123456789012345678901\0\0x\0\0"), SPAWNREQ_ENUM, 0, 0 },   /* 21 bytes */
  { S("\x05" "123456789012345678901"), SPAWNREQ_ENUM, 0, 0 },   /* known too long before its NUL */
  { S("\x05" "12345678901234567890"), SPAWNREQ_MORE, 0, 0 },    /* 20 bytes, NUL still to come */
  { S("\x05" "12345678901234567890\0\0x\0\0"), SPAWNREQ_OK, 26, 1 },
};

static void test_rows(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct spawnreq r;
    size_t used = 777;
    int ret = spawnreq_frame(rows[i].in, rows[i].len, &r, &used);
    if (ret != rows[i].ret) fail_msg("row %zu: ret %d", i, ret);
    if (ret != SPAWNREQ_OK) { if (used != 777) fail_msg("row %zu: used written", i); continue; }
    if (used != rows[i].used || r.nrcpt != rows[i].nrcpt) fail_msg("row %zu: used %zu nrcpt %zu", i, used, r.nrcpt);
    if (r.slot != (unsigned char)rows[i].in[0] || r.num != rows[i].in + 1) fail_msg("row %zu: slot or N", i);
  }
}

static void test_fields(void **st)
{
  static const char in[] = "\x07" "4711\0s@x\0a@y\0b@y\0\0";
  struct spawnreq r;
  size_t used;
  (void)st;
  assert_int_equal(spawnreq_frame(in, sizeof in - 1, &r, &used), SPAWNREQ_OK);
  assert_int_equal(used, sizeof in - 1);
  assert_int_equal(r.slot, 7);
  assert_string_equal(r.num, "4711");
  assert_string_equal(r.sender, "s@x");
  assert_int_equal(r.nrcpt, 2);
  assert_string_equal(r.rcpt[0], "a@y");
  assert_string_equal(r.rcpt[1], "b@y");
}

/* a request with nrcpt recipients of alen bytes and a sender of slen bytes */
static size_t build(char *b, size_t slen, size_t nrcpt, size_t alen)
{
  size_t n = 0;
  b[n++] = 3;
  memcpy(b + n, "18446744073709551615", 21); n += 21;
  memset(b + n, 's', slen); n += slen; b[n++] = 0;
  for (size_t i = 0; i < nrcpt; i++) { memset(b + n, 'r', alen); n += alen; b[n++] = 0; }
  b[n++] = 0;
  return n;
}

static void test_limits(void **st)
{
  static char b[SPAWNREQ_MAX + 4000];
  struct spawnreq r;
  size_t n, used;
  (void)st;
  /* the largest request: exactly SPAWNREQ_MAX bytes */
  n = build(b, SPAWNREQ_ADDR_MAX, SPAWNREQ_RCPT_MAX, SPAWNREQ_ADDR_MAX);
  assert_int_equal(n, SPAWNREQ_MAX);
  assert_int_equal(spawnreq_frame(b, n, &r, &used), SPAWNREQ_OK);
  assert_int_equal(used, n);
  assert_int_equal(r.nrcpt, SPAWNREQ_RCPT_MAX);
  /* every proper prefix is MORE */
  for (size_t k = 0; k < n; k++) assert_int_equal(spawnreq_frame(b, k, &r, &used), SPAWNREQ_MORE);
  /* one byte too many anywhere */
  n = build(b, SPAWNREQ_ADDR_MAX + 1, 1, 1);
  assert_int_equal(spawnreq_frame(b, n, &r, &used), SPAWNREQ_EADDR);
  n = build(b, 0, 1, SPAWNREQ_ADDR_MAX + 1);
  assert_int_equal(spawnreq_frame(b, n, &r, &used), SPAWNREQ_EADDR);
  n = build(b, 0, SPAWNREQ_RCPT_MAX + 1, 1);
  assert_int_equal(spawnreq_frame(b, n, &r, &used), SPAWNREQ_ERCPT);
  /* the 101st recipient is refused at its first byte */
  n = build(b, 0, SPAWNREQ_RCPT_MAX, 1);
  b[n - 1] = 'r';
  assert_int_equal(spawnreq_frame(b, n, &r, &used), SPAWNREQ_ERCPT);
  assert_int_equal(spawnreq_frame(b, n - 1, &r, &used), SPAWNREQ_MORE);
  /* an address too long is known before its NUL arrives */
  n = build(b, 0, 1, SPAWNREQ_ADDR_MAX + 1);
  assert_int_equal(spawnreq_frame(b, 1 + 21 + 1 + SPAWNREQ_ADDR_MAX, &r, &used), SPAWNREQ_MORE);
  assert_int_equal(spawnreq_frame(b, 1 + 21 + 1 + SPAWNREQ_ADDR_MAX + 1, &r, &used), SPAWNREQ_EADDR);
}

static void test_errors(void **st)
{
  (void)st;
  assert_non_null(strstr(spawnreq_error(SPAWNREQ_ENUM), "number"));
  assert_non_null(strstr(spawnreq_error(SPAWNREQ_EADDR), "1000"));
  assert_non_null(strstr(spawnreq_error(SPAWNREQ_ERCPT), "100"));
  assert_non_null(spawnreq_error(-99));
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(test_rows),
    cmocka_unit_test(test_fields),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
