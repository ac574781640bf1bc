/* libFuzzer: send/tlsrpt.c and send/remote-rptlog.c, the bytes of a
   _smtp._tls TXT record from DNS and a line of a TLS-RPT day file (v1,
   or v2 with an MTA-STS policy: its JSON has policy-string). The
   addresses kept are within their limits and hold no byte the message
   header they go into could not carry; a parsed line formats back to a
   line that parses to the same fields; the JSON of what was added is one
   line of printable ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1];
  const char *recs[2] = { (const char *)data, (const char *)data };
  size_t lens[2] = { size, size / 2 };
  struct rptlog r, r2;
  char line[RPTLOG_LINE_MAX];
  int n = tlsrpt_txt((const char *)data, size, rua);
  if (n < -2 || n > TLSRPT_RUA_MAX) abort();
  for (int i = 0; i < n; i++) {
    size_t l = strlen(rua[i]);
    if (!l || l > ADDR_MAX || !strchr(rua[i], '@')) abort();
    for (size_t k = 0; k < l; k++) if ((unsigned char)rua[i][k] < 33 || (unsigned char)rua[i][k] > 126 || strchr("<>,;\"", rua[i][k])) abort();
  }
  n = tlsrpt_records(recs, lens, 2, rua);
  if (n < -1 || n > TLSRPT_RUA_MAX) abort();
  if (rptlog_parse((const char *)data, size, &r) == 0) {
    struct tlsrpt_day d = TLSRPT_DAY_ZERO;
    struct tlsrpt_meta m = { "me.example", "postmaster@me.example", "2026-12-06", "id" };
    size_t jl, ll = rptlog_format(line, &r);
    char *j;
    if (ll > RPTLOG_LINE_MAX || line[ll - 1] != '\n') abort();
    if (rptlog_parse(line, ll - 1, &r2) != 0 || memcmp(&r, &r2, sizeof r)) abort();
    if (tlsrpt_add(&d, &r) == 0 && d.ndom == 1) {
      j = tlsrpt_json(&d.dom[0], &m, &jl);
      if (j) {
        for (size_t k = 0; k + 1 < jl; k++) if (j[k] < 32 || j[k] > 126) abort();
        if (!strcmp(r.ptype, "sts") && strcmp(r.policy, "-") && !strstr(j, "\"policy-string\":[\"version: STSv1\",\"mode: ")) abort();
        free(j);
      }
    }
    tlsrpt_free(&d);
  }
  return 0;
}
