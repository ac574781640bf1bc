/* libFuzzer: send/remote-tlspol.c, a line of control/tlspolicy. A parsed
   policy has a known level and names of [a-z0-9.-] only; the lookup over
   the input split at LF never reads past it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/remote-tlspol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct tlspol p;
  struct ctl_list l;
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = 0;
  if (tlspol_parse(s, &p) == 0) {
    if ((unsigned)p.level > TLSPOL_DANE_ONLY || p.nnames < 0 || p.nnames > TLSPOL_NAMES_MAX) abort();
    for (int k = 0; k < p.nnames; k++) {
      size_t n = strlen(p.names[k]);
      if (!n || n > ADDR_DOMAIN_MAX || strspn(p.names[k], "abcdefghijklmnopqrstuvwxyz0123456789.-") != n) abort();
    }
  }
  l.s = s;
  l.len = size;
  l.n = 1;
  for (size_t k = 0; k < size; k++) if (s[k] == '\n') { s[k] = 0; l.n++; }
  if (tlspol_lookup(&l, "mx.example.com", &p) != 1 && (p.level != TLSPOL_MAY || p.nnames)) abort();
  free(s);
  return 0;
}
