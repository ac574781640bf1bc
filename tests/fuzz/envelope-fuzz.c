/* libFuzzer: common/envelope.c. The input is fed whole and in chunks whose
   sizes come from the input itself; both must agree. Then it is walked as
   a queue envelope file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct envelope_reader r1 = ENVELOPE_READER_ZERO, r2 = ENVELOPE_READER_ZERO;
  const char *s = (const char *)data;
  size_t used1 = 0, used2 = 0, u, i = 0, chunk = size ? (data[0] % 7) + 1 : 1;
  int rc1 = envelope_feed(&r1, s, size, &used1), rc2 = ENVELOPE_MORE;
  if (used1 > size) abort();
  if (rc1 == ENVELOPE_MORE && used1 != size) abort();
  while (i < size && rc2 == ENVELOPE_MORE) {
    size_t n = size - i < chunk ? size - i : chunk;
    rc2 = envelope_feed(&r2, s + i, n, &u);
    if (u > n) abort();
    used2 += u;
    i += n;
  }
  if (rc1 != rc2 || used1 != used2 || r1.nrcpt != r2.nrcpt) abort();
  if (r1.nrcpt > ENVELOPE_RCPT_MAX) abort();
  if (envelope_feed(&r1, s, size, &u) != rc1 && rc1 != ENVELOPE_MORE) abort();
  {
    size_t pos = 0, vl;
    const char *v;
    char t;
    int k;
    /* bounded: every record consumes at least 2 bytes */
    while ((k = envelope_next(s, size, &pos, &t, &v, &vl)) == 1) {
      if (pos > size || vl > ENVELOPE_ADDR_MAX || v[vl] || !t) abort();
      if ((size_t)(v - s) + vl + 1 != pos) abort();
    }
    if (k != 0 && k != -1) abort();
  }
  return 0;
}
