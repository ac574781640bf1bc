/* send/remote-tlspol.c: control/tlspolicy lines, and the lookup order
   (the domain, each .suffix, the empty default). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "send/remote-tlspol.h"

static void t_parse(void **st)
{
  struct tlspol p;
  (void)st;
  assert_int_equal(tlspol_parse("none", &p), 0);
  assert_int_equal(p.level, TLSPOL_NONE);
  assert_int_equal(tlspol_parse("may", &p), 0);
  assert_int_equal(p.level, TLSPOL_MAY);
  assert_int_equal(tlspol_parse(" encrypt ", &p), 0);
  assert_int_equal(p.level, TLSPOL_ENCRYPT);
  assert_int_equal(tlspol_parse("dane", &p), 0);
  assert_int_equal(p.level, TLSPOL_DANE);
  assert_int_equal(tlspol_parse("dane-only", &p), 0);
  assert_int_equal(p.level, TLSPOL_DANE_ONLY);
  assert_int_equal(tlspol_parse("verify match=MX.Example.com:relay.example.net\tmatch=x", &p), 0);
  assert_int_equal(p.level, TLSPOL_VERIFY);
  assert_int_equal(p.nnames, 3);
  assert_string_equal(p.names[0], "mx.example.com");
  assert_string_equal(p.names[1], "relay.example.net");
  assert_string_equal(p.names[2], "x");
  assert_string_equal(tlspol_name(TLSPOL_DANE_ONLY), "dane-only");
}

static void t_parse_bad(void **st)
{
  static const char *bad[] = {
    "", " ", "maybe", "MAY", "verify match=", "verify match=a::b", "verify match=a:", "verify match=a_b",
    "verify match=a:b:c:d:e", "verify mtch=a", "encrypt x", "dane-", "verify match=a\x01",
  };
  struct tlspol p;
  (void)st;
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    assert_int_equal(tlspol_parse(bad[k], &p), -1);
    assert_int_equal(p.level, TLSPOL_MAY);
    assert_int_equal(p.nnames, 0);
  }
}

static void t_lookup(void **st)
{
  static char file[] = "mx.example.com:verify\0.example.com:encrypt\0:none\0broken.test:bogus\0";
  struct ctl_list l = { file, sizeof file - 1, 4 };
  struct ctl_list empty = CTL_LIST_ZERO;
  struct tlspol p;
  (void)st;
  assert_int_equal(tlspol_lookup(&l, "mx.example.com", &p), 1);
  assert_int_equal(p.level, TLSPOL_VERIFY);
  assert_int_equal(tlspol_lookup(&l, "a.b.example.com", &p), 1);
  assert_int_equal(p.level, TLSPOL_ENCRYPT);
  assert_int_equal(tlspol_lookup(&l, "example.com", &p), 1);   /* ".example.com" is for subdomains */
  assert_int_equal(p.level, TLSPOL_NONE);
  assert_int_equal(tlspol_lookup(&l, "broken.test", &p), -1);
  assert_int_equal(p.level, TLSPOL_MAY);
  assert_int_equal(tlspol_lookup(&empty, "example.com", &p), 0);
  assert_int_equal(p.level, TLSPOL_MAY);
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(t_parse), cmocka_unit_test(t_parse_bad), cmocka_unit_test(t_lookup),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
