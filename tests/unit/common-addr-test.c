/* common/addr.c: RFC 5321 4.1.2 paths, RFC 6531 UTF-8, the internal form,
   addr_quote round trips, and hostile input (NUL, CR/LF, overlong parts,
   bad UTF-8, unterminated quotes, 10 000-byte lines). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/addr.h"

#define N ADDR_O_NULL
#define U ADDR_O_UTF8
#define D ADDR_O_NODOMAIN
#define B ADDR_O_NOBRACKET
#define ANYF 0xffffu

struct prow {
  const char *in; size_t len;   /* len 0: strlen(in) */
  unsigned opts; int rc; const char *out; unsigned flags; size_t end;
};

#define L(s) s, sizeof(s) - 1   /* a literal with embedded NULs */

static const struct prow paths[] = {
  { "<a@b>", 0, 0, ADDR_OK, "a@b", 0, 5 },
  { "<a@b> SIZE=100", 0, 0, ADDR_OK, "a@b", 0, 5 },
  { " <a@b>", 0, 0, ADDR_OK, "a@b", 0, 6 },                 /* MAIL FROM: <a@b> */
  { "\t <User.Name+tag@Example.COM>", 0, 0, ADDR_OK, "User.Name+tag@Example.COM", 0, 29 },
  { "<>", 0, N, ADDR_OK, "", ADDR_F_NULL, 2 },
  { "<> BODY=8BITMIME", 0, N, ADDR_OK, "", ADDR_F_NULL, 2 },
  { "<>", 0, 0, ADDR_E_NULL, "", 0, 0 },
  { "<\"a b\"@c>", 0, 0, ADDR_OK, "a b@c", ADDR_F_QUOTED, 9 },
  { "<\"a\\\"b@x\"@c.d>", 0, 0, ADDR_OK, "a\"b@x@c.d", ADDR_F_QUOTED, 14 },
  { "<\"a\\\\b\"@c>", 0, 0, ADDR_OK, "a\\b@c", ADDR_F_QUOTED, 10 },
  { "<\"ab\"@c>", 0, 0, ADDR_OK, "ab@c", ADDR_F_QUOTED, 8 },
  { "<\"\"@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<@x,@y.z:u@v>", 0, 0, ADDR_OK, "u@v", ADDR_F_ROUTE, 13 },
  { "<@x:u@v>", 0, 0, ADDR_OK, "u@v", ADDR_F_ROUTE, 8 },
  { "<@x,u@v>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<@-x:u@v>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<@:u@v>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<postmaster>", 0, D, ADDR_OK, "postmaster", ADDR_F_NODOMAIN, 12 },
  { "<PostMaster>", 0, D, ADDR_OK, "PostMaster", ADDR_F_NODOMAIN, 12 },
  { "<postmaster>", 0, 0, ADDR_E_NODOMAIN, "", 0, 0 },
  { "<bob>", 0, D, ADDR_E_NODOMAIN, "", 0, 0 },
  { "<a@[1.2.3.4]>", 0, 0, ADDR_OK, "a@[1.2.3.4]", ADDR_F_LITERAL, 13 },
  { "<a@[IPv6:2001:db8::1]>", 0, 0, ADDR_OK, "a@[IPv6:2001:db8::1]", ADDR_F_LITERAL, 22 },
  { "<a@[ipv6:::1]>", 0, 0, ADDR_OK, "a@[ipv6:::1]", ADDR_F_LITERAL, 14 },
  { "<a@[x-y:foo]>", 0, 0, ADDR_OK, "a@[x-y:foo]", ADDR_F_LITERAL, 13 },
  { "<a@[1.2.3]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[1.2.3.256]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[IPv6:1.2.3.4]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[IPv6:zz::1]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[x-:foo]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[:foo]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[x:]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[x:a@b]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[x:a b]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[1.2.3.4>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a..b@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<.a@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a.@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@-b>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@b->", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@b..c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@b.>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@.b>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@b_c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<@b>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a b@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@b", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@b c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "   ", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<\"unterminated@b>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<\"a\\", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "a@b", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "a@b", 0, B, ADDR_OK, "a@b", 0, 3 },
  { "a@b SIZE=1", 0, B, ADDR_OK, "a@b", 0, 3 },
  { "a@b>", 0, B, ADDR_E_SYNTAX, "", 0, 0 },
  /* hostile bytes */
  { L("<a\0b@c>"), 0, ADDR_E_SYNTAX, "", 0, 0 },
  { L("<a@b\0c>"), 0, ADDR_E_SYNTAX, "", 0, 0 },
  { L("<\"a\0b\"@c>"), 0, ADDR_E_SYNTAX, "", 0, 0 },
  { L("<\"a\\\0b\"@c>"), 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a\r\n@b>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<\"a\r\nb\"@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<\"a\\\rb\"@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@b\r\n>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<\"a\tb\"@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<\"a\x7f\"@c>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  { "<a@[1.2.3.4\n]>", 0, 0, ADDR_E_SYNTAX, "", 0, 0 },
  /* UTF-8 (RFC 6531) */
  { "<\xc3\x9cn\xc3\xaf@d\xc3\xb6.de>", 0, U, ADDR_OK, "\xc3\x9cn\xc3\xaf@d\xc3\xb6.de", ADDR_F_UTF8, 14 },
  { "<\xc3\x9cn\xc3\xaf@d\xc3\xb6.de>", 0, 0, ADDR_E_UTF8, "", 0, 0 },
  { "<a@d\xc3\xb6.de>", 0, 0, ADDR_E_UTF8, "", 0, 0 },
  { "<\"\xe2\x82\xac x\"@b>", 0, U, ADDR_OK, "\xe2\x82\xac x@b", ADDR_F_UTF8 | ADDR_F_QUOTED, 11 },
  { "<\xf0\x9f\x98\x80@b>", 0, U, ADDR_OK, "\xf0\x9f\x98\x80@b", ADDR_F_UTF8, 8 },
  { "<\xc0\xaf@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },           /* overlong '/' */
  { "<\xc1\x81@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },
  { "<\xe0\x80\xaf@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },       /* overlong 3 */
  { "<\xf0\x80\x80\xaf@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },   /* overlong 4 */
  { "<\xed\xa0\x80@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },       /* surrogate D800 */
  { "<\xed\xbf\xbf@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },       /* surrogate DFFF */
  { "<\xf4\x90\x80\x80@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },   /* > U+10FFFF */
  { "<\xf5\x80\x80\x80@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },
  { "<\xff@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },
  { "<\x80@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },               /* lone continuation */
  { "<\xc3@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },               /* truncated */
  { "<\xe2\x82>", 0, U, ADDR_E_UTF8, "", 0, 0 },
  { "<a@b\xe2\x82", 0, U, ADDR_E_UTF8, "", 0, 0 },           /* truncated at end of input */
  { "<\xc2\x85@b>", 0, U, ADDR_E_UTF8, "", 0, 0 },           /* C1 control NEL */
  { "<\"\\\xc3\xa9\"@b>", 0, U, ADDR_E_SYNTAX, "", 0, 0 },   /* quoted-pair is ASCII only */
  { "<a@[\xc3\xa9:x]>", 0, U, ADDR_E_SYNTAX, "", 0, 0 },
};

static void check_prow(const struct prow *r)
{
  struct addr a;
  size_t end = 12345, len = r->len ? r->len : strlen(r->in);
  int rc = addr_parse_path(r->in, len, r->opts, &a, &end);
  if (rc != r->rc) print_error("row \"%s\": rc %d, want %d\n", r->in, rc, r->rc);
  assert_int_equal(rc, r->rc);
  assert_string_equal(a.s, r->out);
  assert_int_equal(a.len, strlen(a.s));
  if (rc == ADDR_OK) {
    assert_int_equal(a.flags, r->flags);
    assert_int_equal(end, r->end);
    assert_true(a.at <= a.len);
    if (a.at < a.len) assert_int_equal(a.s[a.at], '@');
    if (a.at < a.len) assert_null(strchr(a.s + a.at + 1, '@'));
    assert_null(strpbrk(a.s, "\r\n"));
  } else {
    assert_int_equal(end, 12345);
    assert_int_equal(a.len, 0);
  }
}

static void t_paths(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) check_prow(&paths[i]);
}

/* a path with a local part of n bytes and a domain of m bytes (labels of
   at most lab bytes) */
static char *mk(size_t n, size_t m, size_t lab, char lc)
{
  char *s = malloc(n + m + 4), *p = s;
  *p++ = '<';
  memset(p, lc, n); p += n;
  *p++ = '@';
  for (size_t i = 0; i < m; i++) *p++ = ((i + 1) % (lab + 1) == 0 && i + 1 < m) ? '.' : 'd';
  *p++ = '>';
  *p = 0;
  return s;
}

static void t_limits(void **st)
{
  struct addr a;
  size_t end;
  char *s;
  (void)st;
  s = mk(ADDR_LOCAL_MAX, 10, 63, 'x');
  assert_int_equal(addr_parse_path(s, strlen(s), 0, &a, &end), ADDR_OK);
  assert_int_equal(a.at, ADDR_LOCAL_MAX);
  free(s);
  s = mk(ADDR_LOCAL_MAX + 1, 10, 63, 'x');
  assert_int_equal(addr_parse_path(s, strlen(s), 0, &a, &end), ADDR_E_TOOLONG);
  free(s);
  s = mk(3, ADDR_DOMAIN_MAX, 63, 'x');
  assert_int_equal(addr_parse_path(s, strlen(s), 0, &a, &end), ADDR_OK);
  assert_int_equal(a.len, 3 + 1 + ADDR_DOMAIN_MAX);
  assert_int_equal(addr_domain_valid(a.s + 4, ADDR_DOMAIN_MAX, 0), 1);
  free(s);
  s = mk(3, ADDR_DOMAIN_MAX + 1, 63, 'x');
  assert_int_equal(addr_parse_path(s, strlen(s), 0, &a, &end), ADDR_E_TOOLONG);
  assert_int_equal(addr_domain_valid(s + 5, ADDR_DOMAIN_MAX + 1, 0), 0);
  free(s);
  s = mk(3, 63, 63, 'x');                                  /* one label of 63 */
  assert_int_equal(addr_parse_path(s, strlen(s), 0, &a, &end), ADDR_OK);
  free(s);
  s = mk(3, 64, 64, 'x');                                  /* one label of 64 */
  assert_int_equal(addr_parse_path(s, strlen(s), 0, &a, &end), ADDR_E_TOOLONG);
  free(s);
  /* quoted local part at the limit (escapes do not count) and over it */
  {
    char q[2 * ADDR_LOCAL_MAX + 16], *p = q;
    *p++ = '<'; *p++ = '"';
    for (int i = 0; i < ADDR_LOCAL_MAX; i++) { *p++ = '\\'; *p++ = ' '; }
    memcpy(p, "\"@b>", 5);
    assert_int_equal(addr_parse_path(q, strlen(q), 0, &a, &end), ADDR_OK);
    assert_int_equal(a.at, ADDR_LOCAL_MAX);
    memcpy(p, " \"@b>", 6);
    assert_int_equal(addr_parse_path(q, strlen(q), 0, &a, &end), ADDR_E_TOOLONG);
  }
  /* 10 000-byte hostile inputs */
  {
    char *big = malloc(10001);
    memset(big, 'a', 10000); big[0] = '<'; big[10000] = 0;
    assert_int_equal(addr_parse_path(big, 10000, 0, &a, &end), ADDR_E_TOOLONG);
    memset(big, '@', 10000); big[0] = '<';
    assert_int_equal(addr_parse_path(big, 10000, 0, &a, &end), ADDR_E_SYNTAX);
    memset(big, '"', 10000); big[0] = '<';
    assert_int_equal(addr_parse_path(big, 10000, 0, &a, &end), ADDR_E_SYNTAX);
    memset(big, ' ', 10000);
    assert_int_equal(addr_parse_path(big, 10000, 0, &a, &end), ADDR_E_SYNTAX);
    memset(big, '.', 10000); memcpy(big, "<a@b", 4);
    assert_int_equal(addr_parse_path(big, 10000, 0, &a, &end), ADDR_E_SYNTAX);
    memset(big, 'b', 10000); memcpy(big, "<a@", 3);
    assert_int_equal(addr_parse_path(big, 10000, 0, &a, &end), ADDR_E_TOOLONG);
    memset(big, 'b', 10000); memcpy(big, "<a@[", 4);
    assert_int_equal(addr_parse_path(big, 10000, 0, &a, &end), ADDR_E_TOOLONG);
    memset(big, 0, 10000);
    assert_int_equal(addr_parse_path(big, 10000, 0, &a, &end), ADDR_E_SYNTAX);
    assert_int_equal(addr_parse_mailbox(big, 10000, B, &a), ADDR_E_TOOLONG);
    memset(big, '\xc3', 10000); big[0] = '<';
    assert_int_equal(addr_parse_path(big, 10000, U, &a, &end), ADDR_E_UTF8);
    for (int i = 1; i < 10000; i += 2) { big[i] = '\xc3'; big[i + 1] = '\xa9'; }
    assert_int_equal(addr_parse_path(big, 9999, U, &a, &end), ADDR_E_TOOLONG);
    {
      /* 10 000 bytes of source route */
      size_t k = 1;
      big[0] = '<';
      while (k + 3 < 9990) { memcpy(big + k, "@a,", 3); k += 3; }
      memcpy(big + k, "@a:u@v>", 7); k += 7;
      assert_int_equal(addr_parse_path(big, k, 0, &a, &end), ADDR_OK);
      assert_string_equal(a.s, "u@v");
      assert_int_equal(a.flags, ADDR_F_ROUTE);
    }
    free(big);
  }
}

struct mrow { const char *in; size_t len; unsigned opts; int rc; const char *out; unsigned flags; };
static const struct mrow mboxes[] = {
  { "a@b", 0, 0, ADDR_OK, "a@b", 0 },
  { "\"a b\"@c", 0, 0, ADDR_OK, "a b@c", ADDR_F_QUOTED },
  { "a b@c", 0, 0, ADDR_E_SYNTAX, "", 0 },
  { "a b@c", 0, B, ADDR_OK, "a b@c", ADDR_F_QUOTED },              /* internal form */
  { "a\"b@c@d", 0, B, ADDR_E_SYNTAX, "", 0 },                      /* quotes: wire form only */
  { "a@b@c", 0, B, ADDR_OK, "a@b@c", ADDR_F_QUOTED },
  { "a..b@c", 0, B, ADDR_OK, "a..b@c", ADDR_F_QUOTED },
  { "@c", 0, B, ADDR_E_SYNTAX, "", 0 },
  { "a@", 0, B, ADDR_E_SYNTAX, "", 0 },
  { "a@b x", 0, B, ADDR_E_SYNTAX, "", 0 },
  { "a\tb@c", 0, B, ADDR_E_SYNTAX, "", 0 },
  { "a\nb@c", 0, B, ADDR_E_SYNTAX, "", 0 },
  { "a@b\n", 0, B, ADDR_E_SYNTAX, "", 0 },
  { L("a\0b@c"), B, ADDR_E_SYNTAX, "", 0 },
  { "<a@b>", 0, 0, ADDR_E_SYNTAX, "", 0 },
  { "", 0, N, ADDR_OK, "", ADDR_F_NULL },
  { "", 0, 0, ADDR_E_NULL, "", 0 },
  { "postmaster", 0, D, ADDR_OK, "postmaster", ADDR_F_NODOMAIN },
  { "postmaster", 0, D | B, ADDR_OK, "postmaster", ADDR_F_NODOMAIN },
  { "bob", 0, B, ADDR_E_NODOMAIN, "", 0 },
  { "bob", 0, 0, ADDR_E_NODOMAIN, "", 0 },
  { "\xc3\xa9 x@b", 0, B | U, ADDR_OK, "\xc3\xa9 x@b", ADDR_F_UTF8 | ADDR_F_QUOTED },
  { "\xc3\xa9 x@b", 0, B, ADDR_E_UTF8, "", 0 },
  { "\xed\xa0\x80 x@b", 0, B | U, ADDR_E_UTF8, "", 0 },
  { "a@[1.2.3.4]", 0, 0, ADDR_OK, "a@[1.2.3.4]", ADDR_F_LITERAL },
};

static void t_mailbox(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof mboxes / sizeof mboxes[0]; i++) {
    const struct mrow *r = &mboxes[i];
    struct addr a;
    size_t len = r->len ? r->len : strlen(r->in);
    int rc = addr_parse_mailbox(r->in, len, r->opts, &a);
    if (rc != r->rc) print_error("mailbox row \"%s\": rc %d, want %d\n", r->in, rc, r->rc);
    assert_int_equal(rc, r->rc);
    assert_string_equal(a.s, r->out);
    if (!rc) assert_int_equal(a.flags, r->flags);
  }
  {
    /* internal form at the local-part limit and one over */
    char s[ADDR_LOCAL_MAX + 8];
    struct addr a;
    memset(s, ' ', ADDR_LOCAL_MAX); memcpy(s + ADDR_LOCAL_MAX, "@b", 3);
    assert_int_equal(addr_parse_mailbox(s, strlen(s), B, &a), ADDR_OK);
    memset(s, ' ', ADDR_LOCAL_MAX + 1); memcpy(s + ADDR_LOCAL_MAX + 1, "@b", 3);
    assert_int_equal(addr_parse_mailbox(s, strlen(s), B, &a), ADDR_E_TOOLONG);
  }
}

static void t_quote(void **st)
{
  static const struct { const char *in, *out; } rows[] = {
    { "a@b", "a@b" },
    { "a.b+c@d", "a.b+c@d" },
    { "a b@c", "\"a b\"@c" },
    { "a\"b@x@c", "\"a\\\"b@x\"@c" },
    { "a\\b@c", "\"a\\\\b\"@c" },
    { "a..b@c", "\"a..b\"@c" },
    { ".a@c", "\".a\"@c" },
    { "a.@c", "\"a.\"@c" },
    { "@c", "\"\"@c" },
    { "postmaster", "postmaster" },
    { "a b", "\"a b\"" },
    { "", "" },
    { "\xc3\xa9@b", "\xc3\xa9@b" },
  };
  (void)st;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char dst[64];
    size_t l = strlen(rows[i].in), n = addr_quote(0, rows[i].in, l);
    assert_int_equal(n, strlen(rows[i].out));
    assert_true(n <= 2 * l + 2);
    assert_int_equal(addr_quote(dst, rows[i].in, l), n);
    dst[n] = 0;
    assert_string_equal(dst, rows[i].out);
  }
  {
    /* round trip: wire -> internal -> wire -> internal, worst case length */
    char in[ADDR_LOCAL_MAX + 8], w[2 * (ADDR_LOCAL_MAX + 8) + 4], p[sizeof w + 2];
    struct addr a, b;
    size_t n, end;
    memset(in, '"', ADDR_LOCAL_MAX); memcpy(in + ADDR_LOCAL_MAX, "@b", 3);
    assert_int_equal(addr_parse_mailbox(in, strlen(in), B, &a), ADDR_E_SYNTAX); /* has quotes */
    memset(in, '\\', ADDR_LOCAL_MAX);
    assert_int_equal(addr_parse_mailbox(in, strlen(in), B, &a), ADDR_OK);
    n = addr_quote(w, a.s, a.len);
    assert_int_equal(n, 2 * ADDR_LOCAL_MAX + 2 + 2);
    p[0] = '<'; memcpy(p + 1, w, n); p[n + 1] = '>';
    assert_int_equal(addr_parse_path(p, n + 2, 0, &b, &end), ADDR_OK);
    assert_string_equal(a.s, b.s);
  }
}

static void t_misc(void **st)
{
  struct addr a;
  size_t end;
  char d[ADDR_DOMAIN_MAX + 1];
  (void)st;
  assert_int_equal(addr_parse_path("<PostMaster@Example.ORG>", 24, 0, &a, &end), ADDR_OK);
  assert_int_equal(addr_is_postmaster(&a), 1);
  assert_int_equal(addr_domain_lower(&a, d), 11);
  assert_string_equal(d, "example.org");
  assert_int_equal(addr_parse_path("<postmaster2@x>", 15, 0, &a, &end), ADDR_OK);
  assert_int_equal(addr_is_postmaster(&a), 0);
  assert_int_equal(addr_parse_path("<postmaster>", 12, D, &a, &end), ADDR_OK);
  assert_int_equal(addr_is_postmaster(&a), 1);
  assert_int_equal(addr_domain_lower(&a, d), 0);
  assert_string_equal(d, "");
  assert_int_equal(addr_parse_path("<\"postmaster\"@x>", 16, 0, &a, &end), ADDR_OK);
  assert_int_equal(addr_is_postmaster(&a), 1);

  assert_int_equal(addr_domain_valid("example.com", 11, 0), 1);
  assert_int_equal(addr_domain_valid("localhost", 9, 0), 1);
  assert_int_equal(addr_domain_valid("[1.2.3.4]", 9, 0), 1);
  assert_int_equal(addr_domain_valid("", 0, 0), 0);
  assert_int_equal(addr_domain_valid("a b", 3, 0), 0);
  assert_int_equal(addr_domain_valid("a.", 2, 0), 0);
  assert_int_equal(addr_domain_valid("a\0b", 3, 0), 0);
  assert_int_equal(addr_domain_valid("d\xc3\xb6.de", 6, 0), 0);
  assert_int_equal(addr_domain_valid("d\xc3\xb6.de", 6, 1), 1);
  assert_int_equal(addr_domain_valid("d\xc3.de", 5, 1), 0);
  for (int e = 0; e <= 6; e++) assert_non_null(addr_strerror(e));
  assert_string_equal(addr_strerror(ADDR_E_TOOLONG), "address too long");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_paths),
    cmocka_unit_test(t_limits),
    cmocka_unit_test(t_mailbox),
    cmocka_unit_test(t_quote),
    cmocka_unit_test(t_misc),
  };
  return cmocka_run_group_tests_name("common-addr", tests, 0, 0);
}
