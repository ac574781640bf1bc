/* common/ucspitls.c: the UCSPI-TLS control reply, parsed and formatted;
   hostile replies (too long, bytes after the LF, bad fields) refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "common/ucspitls.h"

static int parse(const char *s, struct ucspitls_info *i) { return ucspitls_parse(s, strlen(s), i); }

static void t_parse_ok(void **st)
{
  struct ucspitls_info i;
  (void)st;
  assert_int_equal(parse("OK TLSv1.3 TLS_AES_256_GCM_SHA384 256 mx.example.com\n", &i), 0);
  assert_int_equal(i.ok, 1);
  assert_string_equal(i.protocol, "TLSv1.3");
  assert_string_equal(i.cipher, "TLS_AES_256_GCM_SHA384");
  assert_int_equal(i.bits, 256);
  assert_string_equal(i.servername, "mx.example.com");
  assert_int_equal(parse("OK TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 128 -\n", &i), 0);
  assert_string_equal(i.servername, "-");
  assert_int_equal(parse("ERR handshake failed: no shared cipher\n", &i), 0);
  assert_int_equal(i.ok, 0);
  assert_string_equal(i.reason, "handshake failed: no shared cipher");
  assert_string_equal(i.peer, "");
}

/* the client side's optional peer and note; one token after servername,
   which the four-field form refused, is now the peer */
static void t_parse_peer(void **st)
{
  struct ucspitls_info i;
  char buf[UCSPITLS_REPLY_MAX];
  size_t n;
  (void)st;
  assert_int_equal(parse("OK TLSv1.3 C 256 sni extra\n", &i), 0);
  assert_string_equal(i.peer, "extra");
  assert_string_equal(i.note, "");
  assert_int_equal(parse("OK TLSv1.3 C 256 mx.example CA\n", &i), 0);
  assert_string_equal(i.servername, "mx.example");
  assert_string_equal(i.peer, "CA");
  assert_int_equal(parse("OK TLSv1.3 C 256 - none certificate has expired\n", &i), 0);
  assert_string_equal(i.peer, "none");
  assert_string_equal(i.note, "certificate has expired");
  n = ucspitls_format(buf, &i);
  assert_int_equal(n, strlen("OK TLSv1.3 C 256 - none certificate has expired\n"));
  assert_memory_equal(buf, "OK TLSv1.3 C 256 - none certificate has expired\n", n);
  memset(&i, 'x', sizeof i);                          /* every field at its longest */
  i.ok = 1;
  i.bits = 99999;
  i.protocol[UCSPITLS_FIELD_MAX] = i.cipher[UCSPITLS_FIELD_MAX] = i.servername[UCSPITLS_FIELD_MAX] = 0;
  i.peer[UCSPITLS_FIELD_MAX] = i.note[UCSPITLS_FIELD_MAX] = 0;
  n = ucspitls_format(buf, &i);
  assert_true(n <= UCSPITLS_REPLY_MAX);
  assert_int_equal(ucspitls_parse(buf, n, &i), 0);
  assert_int_equal((int)strlen(i.note), UCSPITLS_FIELD_MAX);
}

static void t_parse_bad(void **st)
{
  static const char *bad[] = {
    "", "\n", "OK\n", "OK \n", "ERR \n", "ERR x", "OK TLSv1.3 C 256 sni",           /* no LF */
    "OK TLSv1.3 C 256 sni \n", "OK TLSv1.3  C 256 sni\n", "OK TLSv1.3 C 256\n",
    "OK TLSv1.3 C 256 sni ex@tra\n", "OK TLSv1.3 C 256 sni CA \n", "OK TLSv1.3 C 256 sni CA x\t\n",
    "OK TLSv1.3 C 2x6 sni\n", "OK TLSv1.3 C 123456 sni\n",
    "OK TLS/1 C 256 sni\n", "OK TLSv1.3 C 256 s\tni\n", "ok TLSv1.3 C 256 sni\n",
    "ERR bad\x01 byte\n", "ERR x\nOK TLSv1.3 C 256 sni\n", "NO x\n",
  };
  struct ucspitls_info i;
  char big[400];
  (void)st;
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) assert_int_equal(parse(bad[k], &i), -1);
  assert_int_equal(ucspitls_parse("OK a b 1 c\n", 11, &i), 0);
  assert_int_equal(ucspitls_parse("OK a b 1 c\n\0", 12, &i), -1);   /* a byte after the LF */
  memset(big, 'a', sizeof big);
  memcpy(big, "ERR ", 4);
  big[sizeof big - 1] = '\n';
  assert_int_equal(ucspitls_parse(big, sizeof big, &i), -1);          /* over UCSPITLS_REPLY_MAX */
  memcpy(big + 4 + UCSPITLS_FIELD_MAX + 1, "\n", 1);
  assert_int_equal(ucspitls_parse(big, 4 + UCSPITLS_FIELD_MAX + 2, &i), -1);  /* reason too long */
  assert_int_equal(ucspitls_parse(big, 4 + UCSPITLS_FIELD_MAX + 1, &i), -1);  /* no LF at the end */
  big[4 + UCSPITLS_FIELD_MAX] = '\n';
  assert_int_equal(ucspitls_parse(big, 4 + UCSPITLS_FIELD_MAX + 1, &i), 0);   /* exactly the maximum */
}

static void t_format(void **st)
{
  struct ucspitls_info i, j;
  char buf[UCSPITLS_REPLY_MAX];
  size_t n;
  (void)st;
  memset(&i, 0, sizeof i);
  i.ok = 1;
  strcpy(i.protocol, "TLSv1.3");
  strcpy(i.cipher, "TLS_CHACHA20_POLY1305_SHA256");
  i.bits = 256;
  strcpy(i.servername, "evil name\n");              /* replaced by "-" */
  n = ucspitls_format(buf, &i);
  assert_int_equal(ucspitls_parse(buf, n, &j), 0);
  assert_string_equal(j.cipher, "TLS_CHACHA20_POLY1305_SHA256");
  assert_string_equal(j.servername, "-");
  assert_int_equal(j.bits, 256);
  memset(&i, 0, sizeof i);
  strcpy(i.reason, "bad\r\nreason");
  n = ucspitls_format(buf, &i);
  assert_int_equal(ucspitls_parse(buf, n, &j), 0);
  assert_int_equal(j.ok, 0);
  assert_string_equal(j.reason, "handshake failed");
  i.bits = 0;
  memset(&i, 0, sizeof i);
  i.ok = 1;                                          /* every field empty */
  n = ucspitls_format(buf, &i);
  assert_int_equal(ucspitls_parse(buf, n, &j), 0);
  assert_string_equal(j.protocol, "-");
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(t_parse_ok), cmocka_unit_test(t_parse_bad),
    cmocka_unit_test(t_parse_peer), cmocka_unit_test(t_format),
  };
  return cmocka_run_group_tests_name("common-ucspitls", t, 0, 0);
}
