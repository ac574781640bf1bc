/* common/qid.c: queue ids. Known values, the format (length, alphabet,
   qid_ok), and 10,000+ ids of distinct (time, inode) pairs all distinct:
   many at the same microsecond, the same inode at many times, and inodes
   whose base-32 forms are prefixes of each other. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/qid.h"

static void t_known(void **st)
{
  char id[QID_MAX];
  (void)st;
  assert_int_equal(qid_fmt(id, 0, 0, 0), 12);
  assert_string_equal(id, "000000000000");
  assert_int_equal(qid_fmt(id, 1, 31, 32), 13);
  assert_string_equal(id, "0000001000z10");
  qid_fmt(id, 1796594148, 999999, UINT64_MAX);
  assert_int_equal(strlen(id), 24);
  assert_true(strlen(id) < QID_MAX);
  assert_true(qid_ok(id, strlen(id)));
  assert_false(qid_ok("00000000000", 11));          /* too short */
  assert_false(qid_ok("0000000000000000000000000", 25));
  assert_false(qid_ok("00000000000i", 12));         /* not in the alphabet */
  assert_false(qid_ok("00000000000A", 12));
  assert_false(qid_ok("0000000000\n0", 12));
  assert_false(qid_ok("00000000000\0", 12));
}

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

static void t_unique(void **st)
{
  enum { N = 12000 };
  char (*ids)[QID_MAX] = calloc(N, QID_MAX);
  size_t n = 0;
  (void)st;
  /* 4000 messages in one microsecond: inodes 1..4000 (1 is a prefix of 10..) */
  for (uint64_t i = 1; i <= 4000; i++) qid_fmt(ids[n++], 1796594148, 123456, i);
  /* one inode reused 4000 times, a microsecond apart (across seconds) */
  for (uint64_t t = 0; t < 4000; t++) qid_fmt(ids[n++], 1796594148 + (123457 + t) / 1000000, (uint32_t)((123457 + t) % 1000000), 11022584);
  /* 4000 pseudo-random pairs (distinct: the time is strictly increasing) */
  for (uint64_t k = 0, x = 88172645463325252ull; k < 4000; k++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    qid_fmt(ids[n++], 1800000000 + k, (uint32_t)(x % 1000000), x >> 20);
  }
  for (size_t i = 0; i < n; i++) assert_true(qid_ok(ids[i], strlen(ids[i])));
  qsort(ids, n, QID_MAX, cmp);
  for (size_t i = 1; i < n; i++) assert_true(strcmp(ids[i - 1], ids[i]) != 0);
  free(ids);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_known),
    cmocka_unit_test(t_unique),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
