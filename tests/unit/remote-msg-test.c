/* send/remote-msg.c: the message's 8-bit flag, longest line and size on
   the wire, fed in pieces (a CR split from its LF, a stray CR, no final LF). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "send/remote-msg.h"

static struct msgscan scan(const char *s, size_t cut)
{
  struct msgscan m;
  int cr = 0;
  size_t line = 0, n = strlen(s);
  memset(&m, 0, sizeof m);
  msg_feed(&m, s, cut, &cr, &line);
  msg_feed(&m, s + cut, n - cut, &cr, &line);
  msg_end(&m, cr, line);
  return m;
}

static void t_scan(void **st)
{
  struct msgscan m;
  (void)st;
  m = scan("ab\ncdef\n", 1);
  assert_int_equal(m.eightbit, 0);
  assert_int_equal(m.longest, 4);
  assert_int_equal(m.wiresize, 10);                 /* "ab\r\ncdef\r\n" */
  m = scan("ab\r\ncd", 3);                           /* CRLF split; no final LF */
  assert_int_equal(m.longest, 2);
  assert_int_equal(m.wiresize, 8);
  m = scan("a\rb\n\xc3\xa9", 2);                     /* a stray CR counts as a byte */
  assert_int_equal(m.longest, 3);
  assert_int_equal(m.eightbit, 1);
  assert_int_equal(m.wiresize, 9);
  m = scan("x\r", 2);                                /* a CR at the very end */
  assert_int_equal(m.longest, 2);
  assert_int_equal(m.wiresize, 4);
  m = scan("", 0);
  assert_int_equal(m.wiresize, 0);
}

int main(void)
{
  const struct CMUnitTest t[] = { cmocka_unit_test(t_scan) };
  return cmocka_run_group_tests(t, 0, 0);
}
