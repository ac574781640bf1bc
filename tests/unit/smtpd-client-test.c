/* smtpd-client-test: finding the ternd uid in a passwd file
   (smtpd/client.c), the one fact that decides whether tern-smtpd may
   present TCPREMOTEIP/TCPREMOTEHOST as network facts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "smtpd/client.h"

static void test_line(void **st)
{
  static const struct { const char *line; int ok; unsigned long uid; } rows[] = {
    { "ternd:x:995:994::/nonexistent:/usr/sbin/nologin", 1, 995 },
    { "ternd::0:0:::", 1, 0 },
    { "ternd:x:4294967295:1:::", 1, 4294967295UL },
    { "ternd:x:4294967296:1:::", 0, 0 },
    { "ternd:x:99999999999999999999999:1:::", 0, 0 },
    { "terndx:x:995:994:::", 0, 0 },
    { "tern:x:995:994:::", 0, 0 },
    { "xternd:x:995:994:::", 0, 0 },
    { "ternd:x::994:::", 0, 0 },
    { "ternd:x:99a:994:::", 0, 0 },
    { "ternd:x:995", 0, 0 },
    { "ternd", 0, 0 },
    { "", 0, 0 },
    { "#ternd:x:1:1:::", 0, 0 },
  };
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    unsigned long u = 7;
    int r = client_passwd_line(rows[i].line, strlen(rows[i].line), "ternd", &u);
    if (r != rows[i].ok) fail_msg("row %zu (%s): %d", i, rows[i].line, r);
    if (r && u != rows[i].uid) fail_msg("row %zu: uid %lu", i, u);
  }
}

static int file_uid(const char *text, unsigned long *u)
{
  char path[] = "/tmp/smtpd-client-test.XXXXXX";
  int fd = mkstemp(path), r;
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  r = client_passwd_uid(path, "ternd", u);
  unlink(path);
  return r;
}

static void test_file(void **st)
{
  unsigned long u = 0;
  char *big;
  (void)st;
  assert_int_equal(file_uid("root:x:0:0::/root:/bin/sh\nternd:x:995:994::/:/bin/false\n", &u), 1);
  assert_int_equal(u, 995);
  assert_int_equal(file_uid("root:x:0:0::/root:/bin/sh\nternd:x:996:994::/:/bin/false", &u), 1);  /* no last LF */
  assert_int_equal(u, 996);
  assert_int_equal(file_uid("root:x:0:0::/root:/bin/sh\nternq:x:995:994::/:/bin/false\n", &u), 0);
  assert_int_equal(file_uid("", &u), 0);
  /* a line longer than the reader's buffer is dropped whole, even the
     part of it that looks like an entry; the next line is still read */
  big = malloc(20000);
  assert_non_null(big);
  memset(big, 'a', 9000);
  strcpy(big + 9000, "\nternd:x:997:1:::\n");
  assert_int_equal(file_uid(big, &u), 1);
  assert_int_equal(u, 997);
  memset(big, 'a', 9000);
  memcpy(big + 4096, "ternd:x:5:5:::", 14);
  strcpy(big + 9000, "\n");
  assert_int_equal(file_uid(big, &u), 0);
  free(big);
  assert_int_equal(client_passwd_uid("/nonexistent/passwd", "ternd", &u), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = { cmocka_unit_test(test_line), cmocka_unit_test(test_file) };
  return cmocka_run_group_tests(tests, 0, 0);
}
