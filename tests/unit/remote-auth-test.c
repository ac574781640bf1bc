/* send/remote-auth.c: the relay credentials file (entries, malformed
   lines, the AUTH PLAIN argument) and its mode check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "send/remote-auth.h"

static int find(const char *f, const char *name, struct rauth *a) { return rauth_find(f, strlen(f), name, a); }

static void t_find(void **st)
{
  static const char f[] = "# relays\n\nprov:alice:pa:ss wo rd\r\nprov2:bob@example.net:x\nbad:nouser\nbad2::pw\nlast:u:p";
  struct rauth a;
  (void)st;
  assert_int_equal(find(f, "prov", &a), 1);
  assert_string_equal(a.user, "alice");
  assert_string_equal(a.pass, "pa:ss wo rd");
  assert_int_equal(find(f, "prov2", &a), 1);
  assert_string_equal(a.user, "bob@example.net");
  assert_int_equal(find(f, "last", &a), 1);
  assert_string_equal(a.pass, "p");
  assert_int_equal(find(f, "pro", &a), 0);
  assert_int_equal(find(f, "# relays", &a), 0);
  assert_int_equal(find(f, "bad", &a), -1);
  assert_string_equal(a.user, "");
  assert_int_equal(find(f, "bad2", &a), -1);
  assert_int_equal(find("x:u:\n", "x", &a), -1);                /* empty password */
  assert_int_equal(find("x:u:p\x01q\n", "x", &a), -1);         /* a control byte */
  assert_int_equal(rauth_find("x:u:p\0q\n", 8, "x", &a), -1);   /* a NUL */
}

static void t_plain(void **st)
{
  struct rauth a;
  char out[RAUTH_PLAIN_MAX];
  (void)st;
  memset(&a, 0, sizeof a);
  strcpy(a.user, "tim");
  strcpy(a.pass, "tanstaaftanstaaf");
  assert_int_equal(rauth_plain(&a, out), strlen("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"));   /* RFC 4616 section 4 */
  assert_string_equal(out, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
  memset(a.user, 'u', RAUTH_FIELD_MAX);
  memset(a.pass, 'p', RAUTH_FIELD_MAX);
  assert_true(rauth_plain(&a, out) < RAUTH_PLAIN_MAX);
  rauth_wipe(&a);
  assert_string_equal(a.pass, "");
}

static void t_load(void **st)
{
  char dir[] = "/tmp/tern-rauth.XXXXXX";
  struct rauth a;
  FILE *f;
  (void)st;
  assert_non_null(mkdtemp(dir));
  assert_int_equal(chdir(dir), 0);
  assert_int_equal(rauth_load("x", &a), -2);                    /* no file */
  assert_int_equal(mkdir("remote", 0700), 0);
  f = fopen(RAUTH_PATH, "w");
  assert_non_null(f);
  fputs("x:u:p\n", f);
  fclose(f);
  assert_int_equal(chmod(RAUTH_PATH, 0640), 0);
  assert_int_equal(rauth_load("x", &a), -3);                    /* readable by the group */
  assert_int_equal(chmod(RAUTH_PATH, 0600), 0);
  assert_int_equal(rauth_load("x", &a), 1);
  assert_string_equal(a.user, "u");
  assert_int_equal(rauth_load("y", &a), 0);
  unlink(RAUTH_PATH);
  rmdir("remote");
  assert_int_equal(chdir("/"), 0);
  rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(t_find), cmocka_unit_test(t_plain), cmocka_unit_test(t_load),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
