/* remote-tcpto-fuzz: libFuzzer harness for send/remote-tcpto.c
   (remote-state/tcpto, a 1024-byte table any ternr process can write). Input: the table (padded
   with zeros to 1024 bytes), then operations of 25 bytes each: 16 bytes
   address, 1 byte flag (bit 0 timeout, bit 1 check instead of update),
   8 bytes time. Checks: counts never grow past TCPTO_COUNT_MAX from a sane
   value, a cleared address is never dead, the table stays 1024 bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/remote-tcpto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  unsigned char tab[TCPTO_SIZE + 1];
  size_t n = size < TCPTO_SIZE ? size : TCPTO_SIZE, pos = n;
  memset(tab, 0, sizeof tab);
  memcpy(tab, data, n);
  tab[TCPTO_SIZE] = 0x5a;   /* guard */
  while (pos + 25 <= size) {
    char ip[16];
    uint64_t now = 0;
    unsigned char fl = data[pos + 16];
    memcpy(ip, data + pos, 16);
    for (int i = 0; i < 8; i++) now = (now << 8) | data[pos + 17 + i];
    pos += 25;
    if (fl & 2) { (void)tcpto_dead(tab, ip, now, fl >> 2); continue; }
    tcpto_update(tab, ip, fl & 1, now);
    if (!(fl & 1) && tcpto_dead(tab, ip, now, fl >> 2)) abort();
    for (int i = 0; i < TCPTO_N; i++) {
      unsigned char *r = tab + i * TCPTO_REC;
      if (!memcmp(r, ip, 16) && r[16] > TCPTO_COUNT_MAX && (fl & 1)) {
        /* only a count that was already insane may stay above the maximum */
        int sane_before = 0;
        for (size_t k = 0; k < n / TCPTO_REC; k++)
          if (!memcmp(data + k * TCPTO_REC, ip, 16) && data[k * TCPTO_REC + 16] > TCPTO_COUNT_MAX) sane_before = 1;
        if (!sane_before) abort();
      }
    }
  }
  if (tab[TCPTO_SIZE] != 0x5a) abort();
  return 0;
}
