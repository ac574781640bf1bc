/* send/remote-dns.c: the query (RD, AD, EDNS0 DO), and answers: the AD
   bit, TLSA records kept or skipped, compression, and hostile packets
   (another id, another question, records past the end, pointer loops). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "send/remote-dns.h"

static unsigned char q[DNS_QUERY_MAX];
static size_t ql;

/* an answer to q: header flags f2 f3, then the question, then rr[0..rl) with ancount an */
static size_t answer(unsigned char *p, unsigned f2, unsigned f3, int an, const unsigned char *rr, size_t rl)
{
  size_t qs = ql - 11;   /* the query without its OPT record */
  memcpy(p, q, qs);
  p[2] = (unsigned char)f2; p[3] = (unsigned char)f3;
  p[6] = 0; p[7] = (unsigned char)an; p[10] = 0; p[11] = 0;
  memcpy(p + qs, rr, rl);
  return qs + rl;
}

static void t_query(void **st)
{
  static const unsigned char want[] = "\x12\x34\x01\x20\0\1\0\0\0\0\0\1\3_25\4_tcp\2mx\7example\0\0\x34\0\1";
  (void)st;
  ql = dns_query(q, sizeof q, "_25._tcp.mx.example.", DNS_T_TLSA, 0x1234);
  assert_int_equal(ql, sizeof want - 1 + 11);
  assert_memory_equal(q, want, sizeof want - 1);
  assert_int_equal(q[ql - 11 + 2], 41);        /* OPT */
  assert_int_equal(q[ql - 11 + 7] & 0x80, 0x80);  /* DO */
  assert_int_equal(dns_query(q, sizeof q, "a..b", 1, 1), 0);
  assert_int_equal(dns_query(q, sizeof q, "", 1, 1), 0);
  assert_int_equal(dns_query(q, sizeof q, ".", 1, 1), 0);
  {
    char big[300];
    memset(big, 'a', sizeof big); big[64] = 0;
    assert_int_equal(dns_query(q, sizeof q, big, 1, 1), 0);   /* a 64-byte label */
  }
}

static void t_answer(void **st)
{
  /* two TLSA records (the second owner compressed to the question), an A record */
  static const unsigned char rr[] =
    "\xc0\x0c\0\x34\0\1\0\0\0\x3c\0\x07\3\1\1\xde\xad\xbe\xef"
    "\xc0\x0c\0\x34\0\1\0\0\0\x3c\0\x04\2\0\1\x01"
    "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\x04\x7f\0\0\1";
  unsigned char p[512];
  struct dns_answer a;
  size_t n;
  (void)st;
  ql = dns_query(q, sizeof q, "_25._tcp.mx.example", DNS_T_TLSA, 0x1234);
  n = answer(p, 0x81, 0xa0, 3, rr, sizeof rr - 1);
  assert_int_equal(dns_answer(p, n, q, ql, &a), 0);
  assert_int_equal(a.ad, 1);
  assert_int_equal(a.rcode, 0);
  assert_int_equal(a.n, 2);
  assert_int_equal(a.ntlsa, 2);
  assert_int_equal(a.t[0].usage, 3);
  assert_int_equal(a.t[0].len, 4);
  assert_memory_equal(a.t[0].data, "\xde\xad\xbe\xef", 4);
  assert_int_equal(a.t[1].usage, 2);
  n = answer(p, 0x81, 0x83, 0, rr, 0);        /* NXDOMAIN, not validated */
  assert_int_equal(dns_answer(p, n, q, ql, &a), 0);
  assert_int_equal(a.rcode, 3);
  assert_int_equal(a.ad, 0);
  assert_int_equal(a.n, 0);
  p[22] = 'M';                                 /* "mx" in another case: the same question */
  assert_int_equal(dns_answer(p, n, q, ql, &a), 0);
}

static void t_txt(void **st)
{
  /* a TLS-RPT record in two strings, an empty one, one whose string overruns it */
  static const unsigned char rr[] =
    "\xc0\x0c\0\x10\0\1\0\0\0\x3c\0\x1e\x0bv=TLSRPTv1;\x11 rua=mailto:a@b.c"
    "\xc0\x0c\0\x10\0\1\0\0\0\x3c\0\x01\0"
    "\xc0\x0c\0\x10\0\1\0\0\0\x3c\0\x02\x05x";
  unsigned char p[512];
  struct dns_answer a;
  size_t n;
  (void)st;
  ql = dns_query(q, sizeof q, "_smtp._tls.example", DNS_T_TXT, 0x4321);
  n = answer(p, 0x81, 0x80, 3, rr, sizeof rr - 1);
  assert_int_equal(dns_answer(p, n, q, ql, &a), 0);
  assert_int_equal(a.n, 3);
  assert_int_equal(a.ntxt, 2);
  assert_int_equal(a.skipped, 1);
  assert_int_equal(a.x[0].len, 28);
  assert_string_equal(a.x[0].data, "v=TLSRPTv1; rua=mailto:a@b.c");
  assert_int_equal(a.x[1].len, 0);
  assert_int_equal(a.ntlsa, 0);
}

static void t_hostile(void **st)
{
  static const unsigned char loop[] = "\xc0\x0c\0\x34\0\1\0\0\0\x3c\0\x07\3\1\1\xde\xad\xbe\xef";
  unsigned char p[512];
  struct dns_answer a;
  size_t n;
  (void)st;
  ql = dns_query(q, sizeof q, "_25._tcp.mx.example", DNS_T_TLSA, 0x1234);
  n = answer(p, 0x81, 0x80, 1, loop, sizeof loop - 1);
  p[0] ^= 1;                                   /* another id */
  assert_int_equal(dns_answer(p, n, q, ql, &a), -1);
  p[0] ^= 1;
  p[2] = 0x01;                                 /* not a response */
  assert_int_equal(dns_answer(p, n, q, ql, &a), -1);
  p[2] = 0x81;
  p[14] = 'x';                                 /* another question */
  assert_int_equal(dns_answer(p, n, q, ql, &a), -1);
  p[14] = '2';
  assert_int_equal(dns_answer(p, n - 1, q, ql, &a), -1);     /* rdata past the end */
  p[7] = 2;                                    /* a record promised, none there */
  assert_int_equal(dns_answer(p, n, q, ql, &a), -1);
  p[7] = 1;
  p[n - 19] = 0x3f;                            /* a label running past the end */
  assert_int_equal(dns_answer(p, n, q, ql, &a), -1);
  assert_int_equal(dns_answer(p, 5, q, ql, &a), -1);
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(t_query), cmocka_unit_test(t_answer), cmocka_unit_test(t_hostile),
    cmocka_unit_test(t_txt),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
