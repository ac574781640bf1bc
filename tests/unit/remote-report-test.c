/* remote-report-test: send/rreport.c, tern-rspawn's check and conversion of
   tern-remote's report stream (qmail-rspawn's rules) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "send/rreport.h"

struct row { const char *in; size_t len; size_t nrcpt; int ok; const char *out; size_t outlen; };
#define S(x) x, sizeof x - 1

static const struct row rows[] = {
  { S("r\0Kok\0"), 1, 1, S("Kok\0") },
  { S("r\0r\0Kok\0"), 2, 1, S("Kok\0Kok\0") },
  { S("rgood\0hbad\0ssoon\0Kdone\0"), 3, 1, S("Kgood\ndone\0Dbad\0Zsoon\0") },
  { S("r\0Zdied\0"), 1, 1, S("Zdied\0") },                 /* r but message Z: Z */
  { S("r\0Dno\0"), 1, 1, S("Dno\0") },
  { S("hx\0Zy\0"), 2, 1, S("Dx\0Zy\0") },                 /* missing report: message letter */
  { S("h\0s\0Kok\0"), 2, 1, S("Dok\0Zok\0") },             /* empty h/s text: the message text */
  { S("Dnull MX\0"), 2, 1, S("Dnull MX\0Dnull MX\0") },
  { S("Ka\x01\x7f" "b\nc\0"), 1, 1, S("Ka??b\nc\0") },      /* unsafe bytes shown as ? */
  { S(""), 1, 0, S("Ztern-remote produced no output. (#4.3.0)\0") },
  { S("r\0Kok"), 1, 0, S("Ztern-remote produced malformed output. (#4.3.0)\0") },   /* no NUL */
  { S("r\0"), 1, 0, S("Ztern-remote produced malformed output. (#4.3.0)\0") },      /* no message report */
  { S("r\0r\0Kok\0"), 1, 0, S("Ztern-remote produced malformed output. (#4.3.0)\0") }, /* too many */
  { S("Kok\0r\0"), 1, 0, S("Ztern-remote produced malformed output. (#4.3.0)\0") },  /* after message */
  { S("Kok\0Kok\0"), 1, 0, S("Ztern-remote produced malformed output. (#4.3.0)\0") },
  { S("\0Kok\0"), 1, 0, S("Ztern-remote produced malformed output. (#4.3.0)\0") },   /* empty record */
  { S("xhello\0Kok\0"), 1, 0, S("Ztern-remote produced malformed output. (#4.3.0)\0") },
};

static char dst[RREPORT_OUT_MAX(RREPORT_RCPT_MAX)];

static void test_rows(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int ok = -1;
    size_t n = rreport_reply(dst, rows[i].in, rows[i].len, 0, rows[i].nrcpt, &ok);
    if (ok != rows[i].ok || n != rows[i].outlen || memcmp(dst, rows[i].out, n)) fail_msg("row %zu: ok %d n %zu", i, ok, n);
  }
}

static void test_caps(void **st)
{
  static char big[RREPORT_IN_MAX];
  int ok;
  size_t n;
  (void)st;
  /* overflow flag: Z for all */
  n = rreport_reply(dst, "Kok", 3, 1, 2, &ok);
  assert_int_equal(ok, 0);
  assert_int_equal(dst[0], 'Z');
  assert_int_equal(memchr(dst, 0, n) != 0, 1);
  /* a huge text is cut to RREPORT_TEXT_MAX per recipient */
  memset(big, 'a', sizeof big);
  big[0] = 'r'; big[30000] = 0; big[30001] = 'K'; big[sizeof big - 1] = 0;
  n = rreport_reply(dst, big, sizeof big, 0, 1, &ok);
  assert_int_equal(ok, 1);
  assert_int_equal(n, 1 + RREPORT_TEXT_MAX + 1);
  assert_int_equal(dst[0], 'K');
  /* 100 recipients, each with a full-size text, fit in RREPORT_OUT_MAX */
  n = rreport_all(dst, RREPORT_RCPT_MAX, 'D', big + 1);
  assert_true(n <= sizeof dst);
}

int main(void)
{
  const struct CMUnitTest t[] = { cmocka_unit_test(test_rows), cmocka_unit_test(test_caps) };
  return cmocka_run_group_tests(t, 0, 0);
}
