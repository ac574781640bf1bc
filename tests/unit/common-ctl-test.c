/* common/ctl.c: control files written into a mkdtemp directory: missing
   file, CRLF, comments, blank lines, trailing blanks, no final newline, NUL
   bytes, over-long values, directories; and the in-memory parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/ctl.h"
#include "common/ctl_internal.h"

static char dir[] = "/tmp/ctl-test.XXXXXX";
static char path[256];

static const char *put(const char *name, const char *b, size_t n)
{
  int fd;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, b, n), (ssize_t)n);
  close(fd);
  return path;
}
#define PUT(name, lit) put(name, lit, sizeof(lit) - 1)

struct lrow { const char *in; size_t n; int rc; int err; const char *out; };
#define L(s) s, sizeof(s) - 1
static const struct lrow lines[] = {
  { L("mail.example.com\n"), 1, 0, "mail.example.com" },
  { L("mail.example.com"), 1, 0, "mail.example.com" },             /* no final newline */
  { L("mail.example.com\r\n"), 1, 0, "mail.example.com" },         /* CRLF */
  { L("mail.example.com \t \r\nsecond\n"), 1, 0, "mail.example.com" },
  { L("  lead\n"), 1, 0, "  lead" },                                /* leading blanks kept */
  { L("a b\n"), 1, 0, "a b" },
  { L(""), 1, 0, "" },                                              /* empty file */
  { L("\n"), 1, 0, "" },
  { L("   \r\n"), 1, 0, "" },
  { L("#comment\n"), 1, 0, "#comment" },                            /* single value: first line, verbatim */
  { L("a\0b\n"), -1, EINVAL, "" },                                  /* NUL byte in the value */
  { L("\0"), -1, EINVAL, "" },
  { L("ok\n\0after\n"), 1, 0, "ok" },                              /* NUL after the first line: ignored */
  { L("a\rb\n"), 1, 0, "a\rb" },                                    /* inner CR stays (only trailing goes) */
};

static void t_line_mem(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    char buf[64];
    size_t len = 99;
    int rc;
    errno = 0;
    rc = ctl_parse_line(lines[i].in, lines[i].n, buf, sizeof buf, &len);
    assert_int_equal(rc, lines[i].rc);
    if (rc < 0) assert_int_equal(errno, lines[i].err);
    assert_string_equal(buf, lines[i].out);
    if (rc == 1) assert_int_equal(len, strlen(lines[i].out));
    /* the same through a file */
    len = 99;
    errno = 0;
    rc = ctl_readline(put("line", lines[i].in, lines[i].n), buf, sizeof buf, &len);
    assert_int_equal(rc, lines[i].rc);
    if (rc < 0) assert_int_equal(errno, lines[i].err);
    assert_string_equal(buf, lines[i].out);
  }
}

static void t_line_limits(void **st)
{
  char buf[CTL_LINE_MAX], *big = malloc(20000);
  size_t len;
  (void)st;
  /* exactly max-1 bytes fits; max bytes does not */
  memset(big, 'x', CTL_LINE_MAX - 1); big[CTL_LINE_MAX - 1] = '\n';
  assert_int_equal(ctl_readline(put("l", big, CTL_LINE_MAX), buf, sizeof buf, &len), 1);
  assert_int_equal(len, CTL_LINE_MAX - 1);
  memset(big, 'x', CTL_LINE_MAX); big[CTL_LINE_MAX] = '\n';
  errno = 0;
  assert_int_equal(ctl_readline(put("l", big, CTL_LINE_MAX + 1), buf, sizeof buf, &len), -1);
  assert_int_equal(errno, EFBIG);
  assert_string_equal(buf, "");
  /* max-1 bytes followed by 10 000 trailing blanks still fits */
  memset(big, 'x', CTL_LINE_MAX - 1); memset(big + CTL_LINE_MAX - 1, ' ', 10000);
  assert_int_equal(ctl_readline(put("l", big, CTL_LINE_MAX - 1 + 10000), buf, sizeof buf, &len), 1);
  assert_int_equal(len, CTL_LINE_MAX - 1);
  /* ... but not if a non-blank follows them */
  big[CTL_LINE_MAX + 500] = 'y';
  assert_int_equal(ctl_readline(put("l", big, CTL_LINE_MAX - 1 + 10000), buf, sizeof buf, &len), -1);
  assert_int_equal(errno, EFBIG);
  /* 20 000 bytes without newline */
  memset(big, 'z', 20000);
  assert_int_equal(ctl_parse_line(big, 20000, buf, sizeof buf, &len), -1);
  assert_int_equal(errno, EFBIG);
  /* tiny buffers */
  assert_int_equal(ctl_parse_line("a\n", 2, buf, 1, &len), -1);
  assert_int_equal(ctl_parse_line("\n", 1, buf, 1, &len), 1);
  assert_int_equal(ctl_parse_line("a", 1, buf, 0, &len), -1);
  assert_int_equal(errno, EINVAL);
  free(big);
  /* missing file; a directory is an error, not a default */
  snprintf(path, sizeof path, "%s/missing", dir);
  memcpy(buf, "junk", 5);
  assert_int_equal(ctl_readline(path, buf, sizeof buf, &len), 0);
  assert_string_equal(buf, "");
  assert_int_equal(len, 0);
  assert_int_equal(ctl_readline(dir, buf, sizeof buf, &len), -1);
  assert_int_equal(errno, EISDIR);
}

struct listrow { const char *in; size_t n; int rc; size_t count; const char *joined; };
static const struct listrow lists[] = {
  { L("a\nb\nc\n"), 1, 3, "a|b|c|" },
  { L("a\nb\nc"), 1, 3, "a|b|c|" },                                 /* no final newline */
  { L("a\r\nb\r\n"), 1, 2, "a|b|" },                                /* CRLF */
  { L("# comment\na\n\n   \n\t\r\n#x\nb  \t\n"), 1, 2, "a|b|" },
  { L(" #not a comment\n"), 1, 1, " #not a comment|" },
  { L(""), 1, 0, "" },
  { L("\n\n\n"), 1, 0, "" },
  { L("#only\n"), 1, 0, "" },
  { L("a\n\0\n"), -1, 0, "" },                                      /* NUL anywhere */
  { L("#\0\n"), -1, 0, "" },
};

static void check_list(const struct ctl_list *l, const struct listrow *r)
{
  char j[256];
  size_t pos = 0, k = 0, cnt = 0;
  const char *e;
  while ((e = ctl_listnext(l, &pos)) && cnt < 100) {
    size_t el = strlen(e);
    assert_true(k + el + 1 < sizeof j);
    memcpy(j + k, e, el); k += el; j[k++] = '|';
    cnt++;
  }
  j[k] = 0;
  assert_int_equal(cnt, r->count);
  assert_int_equal(l->n, r->count);
  assert_string_equal(j, r->joined);
}

static void t_list(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
    struct ctl_list l = CTL_LIST_ZERO;
    int rc = ctl_parse_list(lists[i].in, lists[i].n, &l);
    assert_int_equal(rc, lists[i].rc);
    if (rc < 0) { assert_int_equal(errno, EINVAL); assert_null(l.s); assert_int_equal(l.n, 0); }
    check_list(&l, &lists[i]);
    ctl_listfree(&l);
    rc = ctl_readlist(put("list", lists[i].in, lists[i].n), &l);
    assert_int_equal(rc, lists[i].rc);
    check_list(&l, &lists[i]);
    ctl_listfree(&l);
    assert_null(l.s);
  }
}

static void t_list_limits(void **st)
{
  struct ctl_list l = CTL_LIST_ZERO;
  size_t n = CTL_LIST_MAX + 1;
  char *big = malloc(n);
  (void)st;
  snprintf(path, sizeof path, "%s/missing", dir);
  assert_int_equal(ctl_readlist(path, &l), 0);
  assert_null(l.s);
  assert_int_equal(ctl_readlist(dir, &l), -1);
  assert_null(l.s);
  /* exactly CTL_LIST_MAX bytes is read, one more is EFBIG */
  memset(big, 'a', n);
  for (size_t i = 99; i < n; i += 100) big[i] = '\n';
  assert_int_equal(ctl_readlist(put("big", big, CTL_LIST_MAX), &l), 1);
  assert_true(l.n > 160000);
  ctl_listfree(&l);
  errno = 0;
  assert_int_equal(ctl_readlist(put("big", big, n), &l), -1);
  assert_int_equal(errno, EFBIG);
  assert_null(l.s);
  assert_int_equal(ctl_parse_list(big, n, &l), -1);
  assert_int_equal(errno, EFBIG);
  unlink(path);
  free(big);
}

static void t_ulong(void **st)
{
  static const struct { const char *in; size_t n; int rc; unsigned long v; } rows[] = {
    { L("20\n"), 1, 20 },
    { L("0"), 1, 0 },
    { L("1200 \r\n"), 1, 1200 },
    { L("18446744073709551615\n"), 1, 18446744073709551615UL },
    { L("18446744073709551616\n"), -2, 7 },
    { L("99999999999999999999999\n"), -2, 7 },
    { L("\n"), -2, 7 },
    { L(""), -2, 7 },
    { L("-1\n"), -2, 7 },
    { L("+1\n"), -2, 7 },
    { L(" 1\n"), -2, 7 },
    { L("1x\n"), -2, 7 },
    { L("0x10\n"), -2, 7 },
    { L("1\0"), -2, 7 },
  };
  unsigned long v;
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    v = 12345;
    assert_int_equal(ctl_readulong(put("num", rows[i].in, rows[i].n), &v, 7), rows[i].rc);
    assert_int_equal(v, rows[i].v);
  }
  snprintf(path, sizeof path, "%s/missing", dir);
  assert_int_equal(ctl_readulong(path, &v, 42), 0);
  assert_int_equal(v, 42);
  assert_int_equal(ctl_readulong(dir, &v, 43), -1);
  assert_int_equal(v, 43);
  {
    char big[CTL_LINE_MAX + 10];
    memset(big, '1', sizeof big);
    assert_int_equal(ctl_readulong(put("num", big, sizeof big), &v, 44), -2);
    assert_int_equal(v, 44);
  }
}

static void t_domain(void **st)
{
  struct ctl_list l = CTL_LIST_ZERO;
  static const char in[] = "example.com\n.Sub.Example.NET\nlocalhost\n.\n";
  (void)st;
  assert_int_equal(ctl_parse_list(in, sizeof in - 1, &l), 1);
  assert_int_equal(ctl_domain_match(&l, "example.com", 11), 1);
  assert_int_equal(ctl_domain_match(&l, "EXAMPLE.COM", 11), 1);
  assert_int_equal(ctl_domain_match(&l, "a.example.com", 13), 0);
  assert_int_equal(ctl_domain_match(&l, "example.co", 10), 0);
  assert_int_equal(ctl_domain_match(&l, "example.comx", 12), 0);
  assert_int_equal(ctl_domain_match(&l, "a.sub.example.net", 17), 1);
  assert_int_equal(ctl_domain_match(&l, "x.y.SUB.example.net", 19), 1);
  assert_int_equal(ctl_domain_match(&l, "sub.example.net", 15), 0);
  assert_int_equal(ctl_domain_match(&l, "asub.example.net", 16), 0);
  assert_int_equal(ctl_domain_match(&l, "localhost", 9), 1);
  assert_int_equal(ctl_domain_match(&l, "", 0), 0);
  assert_int_equal(ctl_domain_match(&l, "example.com\0x", 13), 0);
  assert_int_equal(ctl_domain_match(&l, "a.", 2), 0);   /* entry "." is not a catch-all */
  ctl_listfree(&l);
  assert_int_equal(ctl_domain_match(&l, "example.com", 11), 0);   /* empty list */
}

/* ctl_relay: the relay of an smtproutes entry, as tern-remote and
   tern-showctl -c read it */
static void t_relay(void **state)
{
  char name[16];
  unsigned long port;
  static const char *bad[] = {
    "[127.0.0.1", "[127.0.0.1]x", "[127.0.0.1]:", "[127.0.0.1]:0", "[127.0.0.1]:65536",
    "[127.0.0.1]:2a", "127.0.0.1:25:25", "h:99999", "h:-1", "h: 25", "0123456789abcdef",
  };
  (void)state;
  assert_int_equal(ctl_relay("relay.example", name, sizeof name, &port), 1);
  assert_string_equal(name, "relay.example");
  assert_int_equal(port, 25);
  assert_int_equal(ctl_relay("[127.0.0.1]:2525", name, sizeof name, &port), 1);
  assert_string_equal(name, "[127.0.0.1]");
  assert_int_equal(port, 2525);
  assert_int_equal(ctl_relay("[IPv6:::1]:65535", name, sizeof name, &port), 1);
  assert_string_equal(name, "[IPv6:::1]");
  assert_int_equal(port, 65535);
  assert_int_equal(ctl_relay("h:1", name, sizeof name, &port), 1);
  assert_int_equal(port, 1);
  assert_int_equal(ctl_relay("0123456789abcde", name, sizeof name, &port), 1);   /* max-1 bytes */
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    port = 7;
    assert_int_equal(ctl_relay(bad[i], name, sizeof name, &port), 0);
    assert_int_equal(port, 0);
    assert_string_equal(name, "");
  }
  assert_int_equal(ctl_relay("h", name, 0, &port), 0);
  {
    char auth[8];
    assert_int_equal(ctl_relay_auth("[127.0.0.1]:587 auth=isp", name, sizeof name, &port, auth, sizeof auth), 1);
    assert_int_equal(port, 587);
    assert_string_equal(auth, "isp");
    assert_int_equal(ctl_relay_auth("relay.example", name, sizeof name, &port, auth, sizeof auth), 1);
    assert_string_equal(auth, "");
    assert_int_equal(ctl_relay_auth("relay.example auth=", name, sizeof name, &port, auth, sizeof auth), 0);
    assert_int_equal(ctl_relay_auth("relay.example auth=1234567", name, sizeof name, &port, auth, sizeof auth), 1);
    assert_int_equal(ctl_relay_auth("relay.example auth=12345678", name, sizeof name, &port, auth, sizeof auth), 0);
    assert_int_equal(ctl_relay_auth("relay.example auth=a/b", name, sizeof name, &port, auth, sizeof auth), 0);
    assert_int_equal(ctl_relay_auth("relay.example x=y", name, sizeof name, &port, auth, sizeof auth), 0);
    assert_int_equal(ctl_relay_auth("h:99999 auth=isp", name, sizeof name, &port, auth, sizeof auth), 0);
  }
}

static int setup(void **st) { (void)st; return mkdtemp(dir) ? 0 : -1; }
static int teardown(void **st)
{
  static const char *names[] = { "line", "l", "list", "big", "num" };
  (void)st;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unlink(path);
  }
  return rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_line_mem),
    cmocka_unit_test(t_line_limits),
    cmocka_unit_test(t_list),
    cmocka_unit_test(t_list_limits),
    cmocka_unit_test(t_ulong),
    cmocka_unit_test(t_domain),
    cmocka_unit_test(t_relay),
  };
  return cmocka_run_group_tests_name("common-ctl", tests, setup, teardown);
}
