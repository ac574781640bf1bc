/* remote-route-test: send/remote-route.c, where tern-remote connects, for
   the cases that need no DNS: control/smtproutes (exact host, suffix,
   default route, case, ports, malformed entries), address literals, the
   family filter and the self-MX rule (through control/moreipme and
   control/notipme). The MX and A/AAAA lookups are in
   tests/integration/40-remote-mx.t. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/ctl_internal.h"
#include "send/remote-route.h"

static struct route_target tg[ROUTE_TARGET_MAX];
static struct route_fail fail;

/* route host with these control files (lists as file contents) */
static int route(const char *host, const char *routes, const char *moreipme, const char *notipme, int family)
{
  static struct ctl_list r, m, n;
  struct route_ctl c = { &r, &m, &n, family, 5 };
  ctl_listfree(&r); ctl_listfree(&m); ctl_listfree(&n);
  assert_int_equal(ctl_parse_list(routes, strlen(routes), &r), 1);
  assert_int_equal(ctl_parse_list(moreipme, strlen(moreipme), &m), 1);
  assert_int_equal(ctl_parse_list(notipme, strlen(notipme), &n), 1);
  memset(&fail, 0, sizeof fail);
  return route_targets(host, &c, tg, &fail);
}

static void ip_is(const struct route_target *t, const char *text, unsigned port)
{
  char ip[16];
  assert_true(route_scanip(text, ip));
  assert_memory_equal(t->ip, ip, 16);
  assert_int_equal(t->port, port);
}

static void test_scanip(void **state)
{
  (void)state;
  char ip[16];
  assert_true(route_scanip("127.0.0.1", ip));
  assert_true(route_scanip("2001:db8::1", ip));
  assert_false(route_scanip("", ip));
  assert_false(route_scanip("127.0.0.1 ", ip));
  assert_false(route_scanip("mx.example", ip));
  assert_false(route_scanip("[127.0.0.1]", ip));
}

static void test_routes(void **state)
{
  (void)state;
  const char *rs = "a.example:[127.0.0.2]:2525\n.EXAMPLE:[127.0.0.3]\n:[IPv6:::1]:26\n";
  assert_int_equal(route("a.example", rs, "", "", 0), 1);           /* the host itself */
  ip_is(&tg[0], "127.0.0.2", 2525);
  assert_int_equal(tg[0].pref, 0);
  assert_string_equal(tg[0].name, "[127.0.0.2]");
  assert_int_equal(route("b.a.example", rs, "", "", 0), 1);         /* a suffix, any case */
  ip_is(&tg[0], "127.0.0.3", 25);
  assert_int_equal(route("other.test", rs, "", "", 0), 1);          /* the default route */
  ip_is(&tg[0], "::1", 26);
  assert_int_equal(route("c.example", "c.example:127.0.0.9:65535\n", "", "", 0), 1);  /* a bare IP */
  ip_is(&tg[0], "127.0.0.9", 65535);
  /* no self-MX rule with a route, even to one of our own addresses */
  assert_int_equal(route("d.example", "d.example:[192.0.2.7]\n", "192.0.2.7\n", "", 0), 1);
  assert_string_equal(tg[0].auth, "");
  /* a credentials name after the relay and its port */
  assert_int_equal(route("e.example", "e.example:[127.0.0.5]:587 auth=provider-1.x\n", "", "", 0), 1);
  ip_is(&tg[0], "127.0.0.5", 587);
  assert_string_equal(tg[0].auth, "provider-1.x");
  assert_int_equal(route("e.example", "e.example:127.0.0.5 auth=p\n", "", "", 0), 1);
  ip_is(&tg[0], "127.0.0.5", 25);
  assert_string_equal(tg[0].auth, "p");
}

static void test_badroutes(void **state)
{
  (void)state;
  static const char *bad[] = {
    "x.example:[127.0.0.1\n", "x.example:[127.0.0.1]x\n", "x.example:[127.0.0.1]:\n",
    "x.example:[127.0.0.1]:0\n", "x.example:[127.0.0.1]:65536\n", "x.example:[127.0.0.1]:2a\n",
    "x.example:127.0.0.1:25:25\n", "x.example:127.0.0.1:25 auth=\n", "x.example:127.0.0.1:25 auth=a/b\n",
    "x.example:127.0.0.1:25 user=a\n", "x.example:127.0.0.1:25  auth=a\n", "x.example:127.0.0.1: auth=a\n",
    "x.example:[127.0.0.1]x auth=a\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(route("x.example", bad[i], "", "", 0), -1);
    assert_int_equal(fail.letter, 'Z');
    assert_non_null(strstr(fail.text, "control/smtproutes"));
    assert_non_null(strstr(fail.text, "(#4.3.0)"));
  }
  /* the only address of the relay is of the family control/remotefamily excludes */
  assert_int_equal(route("x.example", "x.example:[127.0.0.1]\n", "", "", 6), -1);
  assert_int_equal(fail.letter, 'Z');
  assert_non_null(strstr(fail.text, "(#4.4.1)"));
}

static void test_literals(void **state)
{
  (void)state;
  assert_int_equal(route("[192.0.2.1]", "", "", "", 0), 1);
  ip_is(&tg[0], "192.0.2.1", 25);
  assert_string_equal(tg[0].name, "[192.0.2.1]");
  assert_int_equal(route("[IPv6:2001:db8::5]", "", "", "", 0), 1);
  ip_is(&tg[0], "2001:db8::5", 25);
  assert_int_equal(route("[IPv6:2001:db8::5]", "", "", "", 4), 0);  /* filtered: nothing to try */
  assert_int_equal(route("[192.0.2.1]", "", "", "", 6), 0);
}

static void test_selfmx(void **state)
{
  (void)state;
  /* one of our own addresses (moreipme) at the best preference: MX loop */
  assert_int_equal(route("[192.0.2.1]", "", "192.0.2.1\n", "", 0), -1);
  assert_int_equal(fail.letter, 'D');
  assert_non_null(strstr(fail.text, "(#5.4.6)"));
  /* the list is read again on each call: without moreipme it is not ours */
  assert_int_equal(route("[192.0.2.1]", "", "", "", 0), 1);
  /* 0.0.0.0 and :: are always ours */
  assert_int_equal(route("[0.0.0.0]", "", "", "", 0), -1);
  assert_int_equal(fail.letter, 'D');
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(test_scanip),
    cmocka_unit_test(test_routes),
    cmocka_unit_test(test_badroutes),
    cmocka_unit_test(test_literals),
    cmocka_unit_test(test_selfmx),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
