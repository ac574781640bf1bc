/* smtpd-trace-test: tern-smtpd's Received line and transaction id
   (smtpd/trace.c): the shape RFC 5321 4.4 asks for, unsafe bytes made
   safe, "for" only with one recipient. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "smtpd/trace.h"

static void session(struct session *s, const char *helo)
{
  memset(s, 0, sizeof *s);
  s->helolen = strlen(helo);
  memcpy(s->helo, helo, s->helolen);
  strcpy(s->tx.id, "1.2.3");
}

static const char *line(struct lg *l)
{
  static char buf[LOG_MAX + 1];
  memcpy(buf, l->s, l->n);
  buf[l->n] = 0;
  return buf;
}

static void test_received(void **st)
{
  struct session s;
  struct client c = { "192.0.2.7", 0, 0, 0, 0 };
  struct lg l;
  (void)st;
  session(&s, "client.example");
  s.esmtp = 1;
  s.tx.nrcpt = 1;
  strcpy(s.tx.firstrcpt, "joe@demo.test");
  trace_received(&l, &s, &c, "mx.demo.test", 0);
  assert_string_equal(line(&l),
    "Received: from client.example ([192.0.2.7])\n\tby mx.demo.test (tern-smtpd) with ESMTP id 1.2.3\n"
    "\tfor <joe@demo.test>; Thu, 1 Jan 1970 00:00:00 +0000\n");
  session(&s, "a b\r\n");
  s.tx.nrcpt = 2;
  s.tx.mailp.smtputf8 = 1;
  c.remoteip = "2001:db8::1";
  c.remotehost = "host\n.example";
  trace_received(&l, &s, &c, "mx", 0);
  assert_string_equal(line(&l),
    "Received: from a?b?? (host?.example [IPv6:2001:db8::1])\n\tby mx (tern-smtpd) with UTF8SMTP id 1.2.3; "
    "Thu, 1 Jan 1970 00:00:00 +0000\n");
  c.unverified = 1;   /* not run as ternd: the environment's word only */
  trace_received(&l, &s, &c, "mx", 0);
  assert_non_null(strstr(line(&l), "Received: from a?b?? (unverified: host?.example [IPv6:2001:db8::1])\n"));
  c.unverified = 0;
  session(&s, "h");
  c.remotehost = 0;
  c.remoteip = "unknown";
  trace_received(&l, &s, &c, "mx", 0);
  assert_non_null(strstr(line(&l), "(tern-smtpd) with SMTP id"));
}

static void test_transid(void **st)
{
  char id[TRANSID_MAX];
  (void)st;
  trace_transid(id, 1700000000, 4242, 3);
  assert_string_equal(id, "1700000000.4242.3");
}

int main(void)
{
  const struct CMUnitTest tests[] = { cmocka_unit_test(test_received), cmocka_unit_test(test_transid) };
  return cmocka_run_group_tests(tests, 0, 0);
}
