/* common-priv-test: common/priv.c. Each case runs priv_drop in a forked
   child (it changes the process for good) and reads the child's exit code
   and fd 2. Dropping needs root; as another user only the refusals that
   need no privilege are checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/priv.h"

#define NOBODY 65534

/* run f in a child with fd 2 on a pipe; the exit code (or 256 + signal),
   fd 2's text in err */
static int child(void (*f)(void), char *err, size_t cap)
{
  int p[2], w;
  size_t n = 0;
  pid_t pid;
  assert_int_equal(pipe(p), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (!pid) {
    close(p[0]);
    dup2(p[1], 2);
    f();
    _exit(0);
  }
  close(p[1]);
  for (;;) {
    ssize_t r = read(p[0], err + n, cap - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  err[n] = 0;
  close(p[0]);
  assert_int_equal(waitpid(pid, &w, 0), pid);
  return WIFEXITED(w) ? WEXITSTATUS(w) : 256 + WTERMSIG(w);
}

/* the checks a child makes after priv_drop returned: exit 0 if all hold */
static void verify(uid_t u, gid_t g, size_t n, const gid_t *groups)
{
  gid_t have[16];
  int k = getgroups(16, have);
  if (getuid() != u || geteuid() != u) _exit(2);
  if (getgid() != g || getegid() != g) _exit(3);
  if (setuid(0) != -1 || seteuid(0) != -1) _exit(4);
  if (setgid(0) != -1 || setegid(0) != -1) _exit(5);
  if (k != (int)n) _exit(6);
  for (size_t i = 0; i < n; i++) if (have[i] != groups[i]) _exit(7);
  _exit(0);
}

static void drop_nobody(void)
{
  gid_t g = NOBODY;
  priv_drop("test", NOBODY, NOBODY, 1, &g);
  verify(NOBODY, NOBODY, 1, &g);
}

static void drop_two_groups(void)
{
  gid_t g[2] = { 4242, NOBODY };
  priv_drop("test", NOBODY, 4242, 2, g);
  verify(NOBODY, 4242, 2, g);
}

static void drop_no_groups(void)
{
  priv_drop("test", NOBODY, NOBODY, 0, 0);
  verify(NOBODY, NOBODY, 0, 0);
}

static void drop_to_root(void)
{
  gid_t g = 0;
  priv_drop("test", 0, 0, 1, &g);
  _exit(0);   /* not reached */
}

static void drop_to_other(void)
{
  gid_t g = getgid();
  priv_drop("test", getuid() == 1 ? 2 : 1, getgid(), 1, &g);
  _exit(0);   /* not reached when not root */
}

static void drop_to_self(void)
{
  gid_t g = getgid();
  uid_t u = getuid();
  priv_drop("test", u, getgid(), 1, &g);
  if (getuid() != u || setuid(0) != -1) _exit(2);
  _exit(0);
}

/* effective uid nobody, real and saved uid still 0: can go back to root */
static void drop_half_root(void)
{
  if (seteuid(NOBODY) == -1) _exit(9);
  priv_drop("test", NOBODY, 0, 0, 0);
  _exit(0);   /* not reached */
}

static void test_root(void **st)
{
  char err[512];
  (void)st;
  if (geteuid()) skip();
  assert_int_equal(child(drop_nobody, err, sizeof err), 0);
  assert_string_equal(err, "");
  assert_int_equal(child(drop_two_groups, err, sizeof err), 0);
  assert_int_equal(child(drop_no_groups, err, sizeof err), 0);
  assert_int_equal(child(drop_half_root, err, sizeof err), 111);
  assert_string_equal(err, "test: fatal: unable to drop privileges to uid 65534 gid 0: setuid: Operation not permitted\n");
}

static void test_refusals(void **st)
{
  char err[512];
  (void)st;
  assert_int_equal(child(drop_to_root, err, sizeof err), 111);
  assert_string_equal(err, "test: fatal: unable to drop privileges to uid 0 gid 0: uid 0 is root\n");
  if (geteuid()) {
    /* not root: no other uid can be had, and the message says why */
    assert_int_equal(child(drop_to_other, err, sizeof err), 111);
    assert_non_null(strstr(err, "test: fatal: unable to drop privileges to uid "));
    assert_non_null(strstr(err, ": setuid: "));
    assert_int_equal(child(drop_to_self, err, sizeof err), 0);
  }
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(test_root),
    cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
