/* SMTP AUTH pieces: base64 (RFC 4648 section 10 vectors, hostile input),
   the checkpassword request, the AUTH argument, PLAIN (RFC 4616) and LOGIN. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "common/base64.h"
#include "common/checkpw.h"
#include "smtpd/auth.h"

static void t_base64(void **st)
{
  static const char *v[][2] = {
    { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
  };
  static const char *bad[] = { "Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\r\n", "Zg==Zg==", "=Zm9", "Zm=v", "Zm9*" };
  char out[64];
  (void)st;
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    assert_int_equal(base64_encode(v[i][0], strlen(v[i][0]), out), strlen(v[i][1]));
    assert_string_equal(out, v[i][1]);
    assert_int_equal(base64_decode(v[i][1], strlen(v[i][1]), out, sizeof out), strlen(v[i][0]));
    assert_memory_equal(out, v[i][0], strlen(v[i][0]));
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(base64_decode(bad[i], strlen(bad[i]), out, sizeof out), -1);
  assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5), -1);   /* over cap */
  assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 6), 6);
  assert_int_equal(base64_encode("\0\xff\xfe", 3, out), 4);
  assert_string_equal(out, "AP/+");
}

static void t_checkpw(void **st)
{
  char buf[CHECKPW_REQ_MAX], big[300];
  const char *u, *p;
  size_t n;
  (void)st;
  n = checkpw_format(buf, "bob", 3, "s3cret", 6, "<1.2@x>");
  assert_int_equal(n, 3 + 1 + 6 + 1 + 7 + 1);
  assert_int_equal(checkpw_parse(buf, n, &u, &p), 0);
  assert_string_equal(u, "bob");
  assert_string_equal(p, "s3cret");
  assert_int_equal(checkpw_parse(buf, n - 1, &u, &p), -1);            /* no final NUL */
  assert_int_equal(checkpw_parse(buf, 0, &u, &p), -1);
  memcpy(buf + n, "x", 2);
  assert_int_equal(checkpw_parse(buf, n + 2, &u, &p), -1);            /* a fourth field */
  assert_int_equal(checkpw_parse("\0p\0\0", 4, &u, &p), -1);          /* empty user */
  assert_int_equal(checkpw_parse("u\0\0\0", 4, &u, &p), -1);          /* empty password */
  assert_int_equal(checkpw_parse("a\nb\0p\0\0", 7, &u, &p), -1);      /* LF in the user */
  assert_int_equal(checkpw_format(buf, "a\rb", 3, "p", 1, ""), 0);
  assert_int_equal(checkpw_format(buf, "u", 1, "p\0q", 3, ""), 0);
  memset(big, 'a', sizeof big);
  assert_int_equal(checkpw_format(buf, big, CHECKPW_USER_MAX + 1, "p", 1, ""), 0);
  assert_int_equal(checkpw_format(buf, "u", 1, big, CHECKPW_PASS_MAX + 1, ""), 0);
  assert_true(checkpw_format(buf, big, CHECKPW_USER_MAX, big, CHECKPW_PASS_MAX, "12345678901234567890") > 0);
}

static void t_command(void **st)
{
  const char *ir;
  size_t irl;
  (void)st;
  assert_int_equal(auth_command("PLAIN", 5, &ir, &irl), AUTH_PLAIN);
  assert_int_equal(irl, 0);
  assert_int_equal(auth_command("login", 5, &ir, &irl), AUTH_LOGIN);
  assert_int_equal(auth_command("Plain AGJvYgBwdw==", 18, &ir, &irl), AUTH_PLAIN);
  assert_int_equal(irl, 12);
  assert_memory_equal(ir, "AGJvYgBwdw==", 12);
  assert_int_equal(auth_command("CRAM-MD5", 8, &ir, &irl), AUTH_UNKNOWN);
  assert_int_equal(auth_command("XOAUTH2 abc", 11, &ir, &irl), AUTH_UNKNOWN);
  assert_int_equal(auth_command("", 0, &ir, &irl), AUTH_SYNTAX);
  assert_int_equal(auth_command(" PLAIN", 6, &ir, &irl), AUTH_SYNTAX);
  assert_int_equal(auth_command("PLAIN ", 6, &ir, &irl), AUTH_SYNTAX);
  assert_int_equal(auth_command("PLAIN a b", 9, &ir, &irl), AUTH_SYNTAX);
  assert_int_equal(auth_command("PL\001AIN", 6, &ir, &irl), AUTH_SYNTAX);
}

static void t_plain_login(void **st)
{
  char out[AUTH_DECODED_MAX], user[CHECKPW_USER_MAX + 1], pass[CHECKPW_PASS_MAX + 1];
  long n;
  (void)st;
  assert_int_equal(auth_response("*", 1, out), AUTH_CANCEL);
  assert_int_equal(auth_response("=", 1, out), 0);
  assert_int_equal(auth_response("", 0, out), AUTH_SYNTAX);
  assert_int_equal(auth_response("!!!!", 4, out), AUTH_SYNTAX);
  n = auth_response("AGJvYgBwdw==", 12, out);                        /* \0bob\0pw */
  assert_int_equal(n, 7);
  assert_int_equal(auth_plain(out, (size_t)n, user, pass), 0);
  assert_string_equal(user, "bob");
  assert_string_equal(pass, "pw");
  assert_int_equal(auth_plain("bob\0bob\0pw", 10, user, pass), 0);
  assert_int_equal(auth_plain("eve\0bob\0pw", 10, user, pass), AUTH_AUTHZID);
  assert_int_equal(auth_plain("\0bob\0", 5, user, pass), AUTH_SYNTAX);   /* empty password */
  assert_int_equal(auth_plain("\0\0pw", 4, user, pass), AUTH_SYNTAX);    /* empty user */
  assert_int_equal(auth_plain("\0bobpw", 6, user, pass), AUTH_SYNTAX);   /* two fields */
  assert_int_equal(auth_plain("\0bob\0p\0w", 8, user, pass), AUTH_SYNTAX);
  assert_int_equal(auth_plain("\0b\nb\0pw", 7, user, pass), AUTH_SYNTAX);
  assert_int_equal(auth_login_field("bob", 3, user, CHECKPW_USER_MAX, 1), 0);
  assert_string_equal(user, "bob");
  assert_int_equal(auth_login_field("b\0b", 3, user, CHECKPW_USER_MAX, 1), AUTH_SYNTAX);
  assert_int_equal(auth_login_field("", 0, pass, CHECKPW_PASS_MAX, 0), AUTH_SYNTAX);
  assert_int_equal(auth_login_field("p w", 3, pass, CHECKPW_PASS_MAX, 0), 0);
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(t_base64), cmocka_unit_test(t_checkpw), cmocka_unit_test(t_command), cmocka_unit_test(t_plain_login),
  };
  return cmocka_run_group_tests_name("smtpd-auth", t, 0, 0);
}
