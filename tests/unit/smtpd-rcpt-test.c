/* smtpd-rcpt-test: the RCPT-time recipient check (smtpd/rcpt.c): which
   addresses are local (locals, virtualdomains rewriting) and which keys of
   users/recipients.cdb make a local part deliverable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "smtpd/rcpt.h"

/* a ctl_list from "a\0b\0" with n entries */
static struct ctl_list mk(const char *s, size_t len, size_t n)
{
  struct ctl_list l;
  l.s = (char *)s;
  l.len = len;
  l.n = n;
  return l;
}

/* keys: NUL-separated list, ends with an empty string */
struct db { const char *keys; int fail; char seen[64][64]; int nseen; };

static int lookup(void *ctx, const char *k, size_t n)
{
  struct db *d = ctx;
  if (d->fail) return -1;
  if (d->nseen < 64 && n < 64) { memcpy(d->seen[d->nseen], k, n); d->seen[d->nseen][n] = 0; d->nseen++; }
  for (const char *p = d->keys; *p; p += strlen(p) + 1)
    if (strlen(p) == n && !memcmp(p, k, n)) return 1;
  return 0;
}

static int known(const char *keys, const char *L)
{
  struct db d;
  memset(&d, 0, sizeof d);
  d.keys = keys;
  return rcpt_known(L, strlen(L), lookup, &d);
}

static void test_local(void **st)
{
  static const char loc[] = "demo.test\0.sub.test\0";
  static const char vd[] = "virt.test:joe\0off.test:\0.vw.test:vw\0Bob@other.test:bob\0other.test:oth\0";
  struct ctl_list l = mk(loc, sizeof loc - 1, 2), v = mk(vd, sizeof vd - 1, 5), none = CTL_LIST_ZERO;
  char L[RCPT_LOCAL_MAX];
  size_t n;
  (void)st;
  assert_int_equal(rcpt_local("Joe-Ext@DEMO.test", 17, &l, &v, L, &n), 1);
  assert_string_equal(L, "joe-ext");
  assert_int_equal(n, 7);
  assert_int_equal(rcpt_local("x@a.sub.test", 12, &l, &v, L, &n), 1);
  assert_string_equal(L, "x");
  assert_int_equal(rcpt_local("x@sub.test", 10, &l, &v, L, &n), 0);     /* .sub.test: subdomains only */
  assert_int_equal(rcpt_local("x@example.net", 13, &l, &v, L, &n), 0);
  assert_int_equal(rcpt_local("Sales@Virt.Test", 15, &l, &v, L, &n), 1);
  assert_string_equal(L, "joe-sales");
  assert_int_equal(rcpt_local("x@off.test", 10, &l, &v, L, &n), 0);     /* empty prepend: not local */
  assert_int_equal(rcpt_local("y@a.b.vw.test", 13, &l, &v, L, &n), 1);
  assert_string_equal(L, "vw-y");
  assert_int_equal(rcpt_local("bob@other.test", 14, &l, &v, L, &n), 1); /* user@domain key first */
  assert_string_equal(L, "bob-bob");
  assert_int_equal(rcpt_local("al@other.test", 13, &l, &v, L, &n), 1);
  assert_string_equal(L, "oth-al");
  assert_int_equal(rcpt_local("x@example.net", 13, &none, &none, L, &n), 0);
  assert_int_equal(rcpt_local("noat", 4, &l, &v, L, &n), -1);
  /* the local part is split at the LAST '@' */
  assert_int_equal(rcpt_local("a@b@demo.test", 13, &l, &v, L, &n), 1);
  assert_string_equal(L, "a@b");
}

static void test_local_default_vd(void **st)
{
  /* the "" key: every non-local domain is virtual; the last line wins */
  static const char vd[] = ":first\0:catch\0";
  static const char loc[] = "demo.test\0";
  struct ctl_list l = mk(loc, sizeof loc - 1, 1), v = mk(vd, sizeof vd - 1, 2);
  char L[RCPT_LOCAL_MAX];
  size_t n;
  (void)st;
  assert_int_equal(rcpt_local("x@anything.example", 18, &l, &v, L, &n), 1);
  assert_string_equal(L, "catch-x");
}

static void test_local_toolong(void **st)
{
  static char pre[2200];
  static char vd[2300];
  static const char loc[] = "demo.test\0";
  struct ctl_list l = mk(loc, sizeof loc - 1, 1), v;
  char L[RCPT_LOCAL_MAX];
  size_t n;
  (void)st;
  memset(pre, 'p', 2099);
  pre[2099] = 0;
  memcpy(vd, "big.test:", 9);
  memcpy(vd + 9, pre, 2100);
  v = mk(vd, 9 + 2100, 1);
  assert_int_equal(rcpt_local("x@big.test", 10, &l, &v, L, &n), -1);
}

static void test_known(void **st)
{
  (void)st;
  /* catch-all */
  assert_int_equal(known("*\0", "anybody"), 1);
  /* exact users/assign entry: that local part only */
  assert_int_equal(known("=joe\0", "joe"), 1);
  assert_int_equal(known("=joe\0", "joe-ext"), 0);
  assert_int_equal(known("=joe\0", "jo"), 0);
  /* wildcard prefixes */
  assert_int_equal(known("+list-\0", "list-foo"), 1);
  assert_int_equal(known("+list-\0", "list-"), 1);
  assert_int_equal(known("+list-\0", "list"), 0);
  assert_int_equal(known("+\0", "x"), 1);            /* empty prefix */
  assert_int_equal(known("+a\0", "abc"), 1);
  /* password-database users: the name and every extension */
  assert_int_equal(known("ujoe\0", "joe"), 1);
  assert_int_equal(known("ujoe\0", "joe-anything-else"), 1);
  assert_int_equal(known("ujoe\0", "joey"), 0);
  assert_int_equal(known("ujoe\0", "-joe"), 0);
  /* aliases: the name, and the name before the first '-' */
  assert_int_equal(known("apostmaster\0", "postmaster"), 1);
  assert_int_equal(known("afoo.bar\0", "foo.bar"), 1);
  assert_int_equal(known("afoo\0", "foo-x"), 1);
  assert_int_equal(known("afoo-x\0", "foo-x"), 1);
  assert_int_equal(known("afoo-x\0", "foo"), 0);
  /* nothing matches */
  assert_int_equal(known("=joe\0ujoe\0+list-\0", "mallory"), 0);
  assert_int_equal(known("", "x"), 0);
  /* the value of another kind never counts */
  assert_int_equal(known("joe\0", "joe"), 0);
  assert_int_equal(known("ajoe\0", "=joe"), 0);
}

static void test_keys_order(void **st)
{
  struct db d;
  (void)st;
  memset(&d, 0, sizeof d);
  d.keys = "";
  assert_int_equal(rcpt_known("ab-c", 4, lookup, &d), 0);
  /* "*", "=ab-c", "+", "+a", "+ab", "+ab-", "+ab-c", "uab", "aab-c", "aab" */
  assert_int_equal(d.nseen, 10);
  assert_string_equal(d.seen[0], "*");
  assert_string_equal(d.seen[1], "=ab-c");
  assert_string_equal(d.seen[2], "+");
  assert_string_equal(d.seen[6], "+ab-c");
  assert_string_equal(d.seen[7], "uab");
  assert_string_equal(d.seen[8], "aab-c");
  assert_string_equal(d.seen[9], "aab");
  /* a failing lookup is an error, never "unknown" */
  memset(&d, 0, sizeof d);
  d.keys = "";
  d.fail = 1;
  assert_int_equal(rcpt_known("joe", 3, lookup, &d), -1);
}

static void test_known_long(void **st)
{
  static char L[RCPT_LOCAL_MAX + 10];
  (void)st;
  memset(L, 'x', sizeof L);
  assert_int_equal(rcpt_known(L, RCPT_LOCAL_MAX, lookup, &(struct db){ .keys = "*\0" }), 0);
  assert_int_equal(rcpt_known(L, RCPT_LOCAL_MAX - 1, lookup, &(struct db){ .keys = "*\0" }), 1);
}

/* rcpt_check: the whole policy, one row per address and client */
static int mrh(void *ctx, const char *k, size_t n)
{
  (void)ctx;
  return n == 9 && !memcmp(k, "more.test", 9);
}

static int check(const char *addr, const char *relay, int badmailfrom, char *out)
{
  static const char hosts[] = "demo.test\0.sub.test\0";
  static const char bad[] = "bad@demo.test\0@bad.test\0";
  static const char loc[] = "demo.test\0";
  struct ctl_list h = mk(hosts, sizeof hosts - 1, 2), b = mk(bad, sizeof bad - 1, 2);
  struct ctl_list l = mk(loc, sizeof loc - 1, 1), none = CTL_LIST_ZERO;
  struct db d;
  struct rcpt_policy p;
  struct addr a;
  int r;
  memset(&d, 0, sizeof d);
  d.keys = "ujoe\0upostmaster\0";
  memset(&p, 0, sizeof p);
  p.me = "demo.test";
  p.localip = "192.0.2.1";
  p.localiphost = "demo.test";
  p.relayclient = relay;
  p.have_rcpthosts = 1;
  p.rcpthosts = &h;
  p.badrcptto = &b;
  p.locals = &l;
  p.vdoms = &none;
  p.morercpthosts = mrh;
  p.recipients = lookup;
  p.rcpts_ctx = &d;
  memset(&a, 0, sizeof a);
  a.len = strlen(addr);
  memcpy(a.s, addr, a.len);
  a.at = strrchr(addr, '@') ? (size_t)(strrchr(addr, '@') - addr) : a.len;
  if (a.at == a.len) a.flags |= ADDR_F_NODOMAIN;
  if (a.at < a.len && addr[a.at + 1] == '[') a.flags |= ADDR_F_LITERAL;
  r = rcpt_check(&p, &a, badmailfrom);
  strcpy(out, a.s);
  return r;
}

static void test_policy(void **st)
{
  char o[ADDR_MAX + 1];
  (void)st;
  assert_int_equal(check("joe@demo.test", 0, 0, o), RCPT_OK);
  assert_int_equal(check("joe-x@Demo.Test", 0, 0, o), RCPT_OK);
  assert_int_equal(check("nobody@demo.test", 0, 0, o), RCPT_E_UNKNOWN);
  assert_int_equal(check("nobody@demo.test", "", 0, o), RCPT_E_UNKNOWN);   /* relay clients too */
  assert_int_equal(check("x@a.sub.test", 0, 0, o), RCPT_OK);              /* not local: not checked */
  assert_int_equal(check("x@more.test", 0, 0, o), RCPT_OK);
  assert_int_equal(check("x@x.more.test", 0, 0, o), RCPT_E_RELAY);
  assert_int_equal(check("x@example.net", 0, 0, o), RCPT_E_RELAY);
  assert_int_equal(check("x@example.net", "", 0, o), RCPT_OK);
  assert_int_equal(check("x@example.net", "-r", 0, o), RCPT_OK);
  assert_string_equal(o, "x@example.net-r");
  assert_int_equal(check("x%example.net@demo.test", 0, 0, o), RCPT_E_ROUTE);
  assert_int_equal(check("x!y@demo.test", 0, 0, o), RCPT_E_ROUTE);
  assert_int_equal(check("x%y@demo.test", "", 0, o), RCPT_E_UNKNOWN);
  assert_int_equal(check("joe@demo.test", 0, 1, o), RCPT_E_BADMAILFROM);
  assert_int_equal(check("Postmaster@demo.test", 0, 1, o), RCPT_OK);     /* postmaster is exempt */
  assert_int_equal(check("postmaster", 0, 1, o), RCPT_OK);
  assert_string_equal(o, "postmaster@demo.test");
  assert_int_equal(check("BAD@demo.test", 0, 0, o), RCPT_E_BADRCPTTO);
  assert_int_equal(check("x@bad.test", "", 0, o), RCPT_E_BADRCPTTO);
  assert_int_equal(check("joe@[192.0.2.1]", 0, 0, o), RCPT_OK);          /* localiphost */
  assert_string_equal(o, "joe@demo.test");
  assert_int_equal(check("joe@[IPv6:192.0.2.1]", 0, 0, o), RCPT_OK);
  assert_int_equal(check("joe@[192.0.2.2]", 0, 0, o), RCPT_E_RELAY);
  assert_string_equal(rcpt_reply(RCPT_E_UNKNOWN), "550 5.1.1 sorry, no mailbox here by that name");
  assert_string_equal(rcpt_logwhat(RCPT_E_RELAY), "relay refused");
  assert_null(rcpt_logwhat(RCPT_E_CHECK));
}

static void test_policy_nohosts(void **st)
{
  struct rcpt_policy p;
  struct addr a;
  struct ctl_list none = CTL_LIST_ZERO;
  (void)st;
  memset(&p, 0, sizeof p);
  p.me = "Demo.Test";
  p.rcpthosts = p.badrcptto = p.locals = p.vdoms = &none;
  memset(&a, 0, sizeof a);
  strcpy(a.s, "x@demo.TEST");
  a.len = 11;
  a.at = 1;
  assert_int_equal(rcpt_check(&p, &a, 0), RCPT_OK);   /* no rcpthosts: only me, never an open relay */
  strcpy(a.s, "x@other.test");
  a.len = 12;
  assert_int_equal(rcpt_check(&p, &a, 0), RCPT_E_RELAY);
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(test_local),
    cmocka_unit_test(test_local_default_vd),
    cmocka_unit_test(test_local_toolong),
    cmocka_unit_test(test_known),
    cmocka_unit_test(test_keys_order),
    cmocka_unit_test(test_known_long),
    cmocka_unit_test(test_policy),
    cmocka_unit_test(test_policy_nohosts),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
