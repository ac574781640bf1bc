/* smtpd/dovecot.c: Dovecot's auth-client handshake and replies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "smtpd/dovecot.h"

static int hs(struct dovecot_hs *h, const char *l) { return dovecot_handshake(h, l, strlen(l)); }
static int rp(const char *l, unsigned long id) { return dovecot_reply(l, strlen(l), id); }

static void t_handshake(void **st)
{
  struct dovecot_hs h = { 0, 0, 0 };
  (void)st;
  assert_int_equal(hs(&h, "VERSION\t1\t2"), DV_MORE);
  assert_int_equal(hs(&h, "MECH\tLOGIN\tplaintext"), DV_MORE);
  assert_int_equal(hs(&h, "MECH\tPLAIN\tplaintext"), DV_MORE);
  assert_int_equal(hs(&h, "SPID\t123"), DV_MORE);
  assert_int_equal(hs(&h, "COOKIE\tabcdef"), DV_MORE);
  assert_int_equal(hs(&h, "DONE"), DV_DONE);
  memset(&h, 0, sizeof h);
  assert_int_equal(hs(&h, "VERSION\t2\t0"), DV_BAD);
  memset(&h, 0, sizeof h);
  assert_int_equal(hs(&h, "VERSION\t1\t2"), DV_MORE);
  assert_int_equal(hs(&h, "DONE"), DV_BAD);                 /* no PLAIN */
  memset(&h, 0, sizeof h);
  assert_int_equal(hs(&h, "MECH\tPLAIN"), DV_MORE);
  assert_int_equal(hs(&h, "DONE"), DV_BAD);                 /* no VERSION */
  memset(&h, 0, sizeof h);
  for (int i = 0; i < DOVECOT_HANDSHAKE_LINES; i++) assert_int_equal(hs(&h, "X"), DV_MORE);
  assert_int_equal(hs(&h, "X"), DV_BAD);                    /* too many lines */
}

static void t_reply(void **st)
{
  (void)st;
  assert_int_equal(rp("OK\t1\tuser=bob", 1), DV_OK);
  assert_int_equal(rp("OK\t1", 1), DV_OK);
  assert_int_equal(rp("FAIL\t1\tuser=bob", 1), DV_FAIL);
  assert_int_equal(rp("FAIL\t1\ttemp", 1), DV_TEMPFAIL);
  assert_int_equal(rp("FAIL\t1\tuser=bob\tcode=temp_fail", 1), DV_TEMPFAIL);
  assert_int_equal(rp("FAIL\t1\tcode=authz_fail", 1), DV_FAIL);
  assert_int_equal(rp("OK\t2", 1), DV_BAD);
  assert_int_equal(rp("CONT\t1\t", 1), DV_BAD);
  assert_int_equal(rp("OK", 1), DV_BAD);
  assert_int_equal(rp("OK\t", 1), DV_BAD);
  assert_int_equal(rp("OK\t01x", 1), DV_BAD);
  assert_int_equal(rp("OK\t99999999999", 1), DV_BAD);
  assert_int_equal(rp("", 1), DV_BAD);
}

int main(void)
{
  const struct CMUnitTest t[] = { cmocka_unit_test(t_handshake), cmocka_unit_test(t_reply) };
  return cmocka_run_group_tests_name("smtpd-dovecot", t, 0, 0);
}
