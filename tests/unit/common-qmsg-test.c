/* common/qmsg.c: the queue file's name, head and offsets; qmsg_open and
   qmsg_readenv on real files (a whole queue file, a short one, a wrong
   magic, an offset past the end, an envelope too long for the reserve). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/qmsg.h"

static void t_names(void **st)
{
  char b[64];
  (void)st;
  assert_int_equal(qmsg_fn(b, "", 46), 6);
  assert_string_equal(b, "msg/46");
  qmsg_fn(b, "queue/", UINT64_MAX);
  assert_string_equal(b, "queue/msg/18446744073709551615");
  assert_true(strlen(b) - 6 < QMSG_FN_MAX);
  assert_int_equal(qmsg_offset(0), 4096);
  assert_int_equal(qmsg_offset(4096 - QMSG_HEAD), 4096);
  assert_int_equal(qmsg_offset(4096 - QMSG_HEAD + 1), 8192);
  assert_int_equal(qmsg_offset(100000), 102400);
}

static void t_head(void **st)
{
  char h[QMSG_HEAD];
  uint64_t m, e;
  (void)st;
  qmsg_head(h, 4096, 77);
  assert_memory_equal(h, "TERNQ01\n" "0000000000001000" "000000000000004d", QMSG_HEAD);
  assert_int_equal(qmsg_headparse(h, 4096, &m, &e), 1);
  assert_true(m == 4096 && e == 77);
  assert_int_equal(qmsg_headparse(h, 5000, &m, &e), 1);
  assert_int_equal(qmsg_headparse(h, 4095, &m, &e), 0);       /* offset past the end */
  qmsg_head(h, 100, 61);                                       /* 40 + 61 > 100 */
  assert_int_equal(qmsg_headparse(h, 5000, &m, &e), 0);
  qmsg_head(h, 101, 61);
  assert_int_equal(qmsg_headparse(h, 5000, &m, &e), 1);
  qmsg_head(h, 4096, 77);
  h[0] = 't';
  assert_int_equal(qmsg_headparse(h, 5000, &m, &e), 0);       /* magic */
  qmsg_head(h, 4096, 77);
  h[10] = 'A';
  assert_int_equal(qmsg_headparse(h, 5000, &m, &e), 0);       /* uppercase hex */
  qmsg_head(h, 4096, 77);
  h[30] = ' ';
  assert_int_equal(qmsg_headparse(h, 5000, &m, &e), 0);
  qmsg_head(h, 4096, UINT64_MAX);                              /* no overflow */
  assert_int_equal(qmsg_headparse(h, UINT64_MAX, &m, &e), 0);
}

/* a file in dir/msg/n holding data[0..len) */
static void put(const char *dir, uint64_t n, const char *data, size_t len)
{
  char fn[256];
  int fd;
  snprintf(fn, sizeof fn, "%s/msg/%llu", dir, (unsigned long long)n);
  fd = open(fn, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_true(write(fd, data, len) == (ssize_t)len);
  close(fd);
}

static void t_files(void **st)
{
  char dir[] = "/tmp/qmsg-test.XXXXXX", pre[64], sub[80], *f, *env, buf[64];
  const char envrec[] = "u0\0p1\0iabc\0Fs@x\0Tr@y";
  size_t elen, flen = 4096 + 5;
  uint64_t mlen, moff, size;
  int fd;
  (void)st;
  assert_non_null(mkdtemp(dir));
  snprintf(sub, sizeof sub, "%s/msg", dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  snprintf(pre, sizeof pre, "%s/", dir);
  f = calloc(1, flen);
  qmsg_head(f, 4096, sizeof envrec - 1);
  memcpy(f + QMSG_HEAD, envrec, sizeof envrec - 1);
  memcpy(f + 4096, "hello", 5);
  put(dir, 7, f, flen);
  fd = qmsg_open(pre, 7, 0, &mlen);
  assert_true(fd >= 0);
  assert_true(mlen == 5);
  assert_int_equal(read(fd, buf, sizeof buf), 5);              /* positioned at the message */
  assert_memory_equal(buf, "hello", 5);
  assert_int_equal(qmsg_readenv(fd, &env, &elen, &moff, &size), 1);
  assert_true(elen == sizeof envrec - 1 && moff == 4096 && size == flen);
  assert_memory_equal(env, envrec, elen);
  assert_int_equal(env[elen], 0);
  free(env);
  close(fd);
  put(dir, 8, f, 30);                                          /* shorter than the head */
  assert_int_equal(qmsg_open(pre, 8, 0, &mlen), -1);
  assert_int_equal(errno, EPROTO);
  put(dir, 9, f, 4000);                                        /* the message offset past the end */
  assert_int_equal(qmsg_open(pre, 9, 0, &mlen), -1);
  assert_int_equal(errno, EPROTO);
  put(dir, 10, "Subject: x\n\nplain message\n", 27);           /* not a queue file */
  assert_int_equal(qmsg_open(pre, 10, 0, &mlen), -1);
  assert_int_equal(errno, EPROTO);
  assert_int_equal(qmsg_open(pre, 11, 0, &mlen), -1);          /* none */
  assert_int_equal(errno, ENOENT);
  for (int n = 7; n <= 10; n++) {
    char fn[256];
    snprintf(fn, sizeof fn, "%s/msg/%d", dir, n);
    unlink(fn);
  }
  rmdir(sub);
  rmdir(dir);
  free(f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_names),
    cmocka_unit_test(t_head),
    cmocka_unit_test(t_files),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
