/* smtpd-dtscan-test: the DATA-time loop check (smtpd/dtscan.c): which
   Delivered-To addresses a recipient has (local, ternalias form, virtual
   domain), and the streaming header scan (any case, CR, split input,
   folded or long lines, the body not scanned). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "smtpd/dtscan.h"

static const char locals[] = "demo.test\0";
static const char vdoms[] = "vd.test:vpre\0lists.test:\0";
static struct ctl_list L = { (char *)locals, sizeof locals - 1, 1 };
static struct ctl_list V = { (char *)vdoms, sizeof vdoms - 1, 2 };
static struct sched_ctl ctl = { &L, &V, 0, "demo.test" };

static int has(const struct dtscan_set *s, const char *a)
{
  size_t pos = 0;
  while (pos < s->len) {
    if (!strcmp(s->s + pos, a)) return 1;
    pos += strlen(s->s + pos) + 1;
  }
  return 0;
}

static void t_rcpt(void **st)
{
  struct dtscan_set s = { 0, 0, 0, 0 };
  (void)st;
  assert_true(dtscan_rcpt(&s, "BS1@demo.test", 13, &ctl));
  assert_int_equal(s.n, 2);
  assert_true(has(&s, "BS1@demo.test"));
  assert_true(has(&s, "ternalias-bs1@demo.test"));
  assert_true(dtscan_rcpt(&s, "bs2@vd.test", 11, &ctl));
  assert_int_equal(s.n, 3);
  assert_true(has(&s, "vpre-bs2@vd.test"));
  assert_true(dtscan_rcpt(&s, "x@example.net", 13, &ctl));   /* remote: none */
  assert_true(dtscan_rcpt(&s, "x@lists.test", 12, &ctl));    /* empty prepend: not virtual */
  assert_int_equal(s.n, 3);
  assert_true(dtscan_rcpt(&s, "postmaster", 10, &ctl));      /* no domain: envnoathost */
  assert_true(has(&s, "postmaster@demo.test"));
  dtscan_free(&s);
}

static int scan(const char *msg, size_t chunk)
{
  struct dtscan_set s = { 0, 0, 0, 0 };
  struct dtscan d;
  size_t n = strlen(msg);
  int hit = 0;
  dtscan_rcpt(&s, "bs1@demo.test", 13, &ctl);
  dtscan_init(&d);
  for (size_t i = 0; i < n; i += chunk) hit = dtscan_feed(&d, msg + i, n - i < chunk ? n - i : chunk, &s);
  dtscan_free(&s);
  return hit;
}

static void t_scan(void **st)
{
  static const struct { const char *msg; int hit; } v[] = {
    { "Delivered-To: bs1@demo.test\nSubject: x\n\nbody\n", 1 },
    { "Subject: x\nDELIVERED-TO: BS1@Demo.Test\n\nbody\n", 1 },
    { "Delivered-To: ternalias-bs1@demo.test\r\n\nbody\n", 1 },
    { "Delivered-To: bs1@demo.test", 0 },                      /* no line end yet */
    { "Delivered-To:  bs1@demo.test\n\n", 0 },                 /* not tern-local's line */
    { "Delivered-To: bs1@demo.test \n\n", 0 },
    { "Delivered-To: <bs1@demo.test>\n\n", 0 },
    { "Delivered-To: bs1@demo.testx\n\n", 0 },
    { "Delivered-To: x\n bs1@demo.test\n\n", 0 },              /* a folded line is two lines */
    { "Subject: x\n\nDelivered-To: bs1@demo.test\n", 0 },      /* the body */
    { "Subject: x\r\n\r\nDelivered-To: bs1@demo.test\n", 0 },
    { "Delivered-To: other@demo.test\n\n", 0 },
  };
  (void)st;
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    for (size_t chunk = 1; chunk <= 64; chunk *= 4)
      if (scan(v[i].msg, chunk) != v[i].hit) fail_msg("case %zu chunk %zu: %s", i, chunk, v[i].msg);
}

static void t_long(void **st)
{
  static char msg[3 * DTSCAN_LINE_MAX];
  (void)st;
  /* a line longer than any address, ending in the address, is not a match */
  memset(msg, 'a', sizeof msg);
  memcpy(msg, "Delivered-To: ", 14);
  strcpy(msg + sizeof msg - 40, "\nDelivered-To: bs1@demo.test\n");
  assert_int_equal(scan(msg, 1000), 1);   /* the next line still counts */
  memcpy(msg + sizeof msg - 40, "xxbs1@demo.test\n\n", 18);
  assert_int_equal(scan(msg, 1000), 0);
}

int main(void)
{
  const struct CMUnitTest t[] = { cmocka_unit_test(t_rcpt), cmocka_unit_test(t_scan), cmocka_unit_test(t_long) };
  return cmocka_run_group_tests_name("smtpd-dtscan", t, 0, 0);
}
