/* libFuzzer: send/remote-dns.c, a DNS answer from the resolver (TLSA, MX
   and TXT questions). Kept TLSA and TXT records are within their limits. */
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
  static const char *const names[3] = { "_25._tcp.mx.example", "mx.example", "_smtp._tls.example" };
  static const uint16_t types[3] = { DNS_T_TLSA, DNS_T_MX, DNS_T_TXT };
  for (int k = 0; k < 3; k++) {
    ql = dns_query(q, sizeof q, names[k], types[k], id);
    if (!ql) abort();
    if (dns_answer(data, size, q, ql, &a) < 0) continue;
    if (a.ntlsa < 0 || a.ntlsa > DNS_TLSA_MAX || a.ntlsa > a.n || (k && a.ntlsa)) abort();
    for (int i = 0; i < a.ntlsa; i++) if (!a.t[i].len || a.t[i].len > DNS_TLSA_DATA_MAX) abort();
    if (a.ntxt < 0 || a.ntxt > DNS_TXT_MAX || a.ntxt > a.n || (k != 2 && a.ntxt)) abort();
    for (int i = 0; i < a.ntxt; i++) if (a.x[i].len > DNS_TXT_DATA_MAX || a.x[i].data[a.x[i].len]) abort();
  }
  return 0;
}
