/* libFuzzer: send/remote-dns.c, a DNS answer from the resolver (TLSA and
   MX questions). Kept TLSA records are within their limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/remote-dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  unsigned char q[DNS_QUERY_MAX];
  struct dns_answer a;
  size_t ql;
  uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
  for (int k = 0; k < 2; k++) {
    ql = dns_query(q, sizeof q, k ? "mx.example" : "_25._tcp.mx.example", k ? DNS_T_MX : DNS_T_TLSA, id);
    if (!ql) abort();
    if (dns_answer(data, size, q, ql, &a) < 0) continue;
    if (a.ntlsa < 0 || a.ntlsa > DNS_TLSA_MAX || a.ntlsa > a.n || (k && a.ntlsa)) abort();
    for (int i = 0; i < a.ntlsa; i++) if (!a.t[i].len || a.t[i].len > DNS_TLSA_DATA_MAX) abort();
  }
  return 0;
}
