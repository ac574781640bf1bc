/* libFuzzer: queue/rspamc.c, the reader of rspamd's /checkv2 answer (an
   HTTP response with a JSON body). Invariants: the verdict's strings are
   bounded and NUL-terminated, the header fields to add are whole
   "Name: value\n" fields whose continuation lines start with SP or TAB,
   and a refused answer leaves an empty verdict. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "queue/rspamc.h"

static void bounded(const char *s, size_t max)
{
  if (strnlen(s, max) == max) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct rspamc_verdict v;
  int r = rspamc_reply((const char *)data, size, &v);
  bounded(v.score, sizeof v.score);
  bounded(v.required, sizeof v.required);
  bounded(v.message, sizeof v.message);
  bounded(v.symbols, sizeof v.symbols);
  for (size_t i = 0; v.message[i]; i++) if (v.message[i] < 0x20 || v.message[i] > 0x7e) abort();
  if (v.action < 0 || v.action > RSPAMC_UNKNOWN) abort();
  if (v.hdrslen > sizeof v.hdrs) abort();
  if (r < 0 && (v.nhdrs || v.hdrslen || v.action != RSPAMC_UNKNOWN || v.symbols[0])) abort();
  {
    size_t fields = 0, i = 0;
    while (i < v.hdrslen) {
      /* a field: a name of 33..126 but ':', ": ", then lines */
      size_t k = i;
      while (k < v.hdrslen && v.hdrs[k] != ':') {
        unsigned char c = (unsigned char)v.hdrs[k];
        if (c < 33 || c > 126) abort();
        k++;
      }
      if (k == i || k + 1 >= v.hdrslen || v.hdrs[k + 1] != ' ') abort();
      for (;;) {
        const char *nl = memchr(v.hdrs + k, '\n', v.hdrslen - k);
        if (!nl) abort();
        for (const char *p = v.hdrs + k; p < nl; p++) if (!*p || *p == '\r') abort();
        k = (size_t)(nl - v.hdrs) + 1;
        if (k < v.hdrslen && (v.hdrs[k] == ' ' || v.hdrs[k] == '\t')) continue;
        break;
      }
      fields++;
      i = k;
    }
    if (fields != v.nhdrs) abort();
  }
  return 0;
}
