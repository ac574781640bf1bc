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

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(test_local),
    cmocka_unit_test(test_local_default_vd),
    cmocka_unit_test(test_local_toolong),
    cmocka_unit_test(test_known),
    cmocka_unit_test(test_keys_order),
    cmocka_unit_test(test_known_long),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
