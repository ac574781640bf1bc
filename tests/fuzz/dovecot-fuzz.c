/* libFuzzer: smtpd/dovecot.c, the lines tern-authdovecot reads from
   Dovecot's socket. The input is split into lines and fed as a handshake,
   every line also as a reply; nothing may read out of bounds, and only
   "OK<TAB>1..." may ever be DV_OK. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smtpd/dovecot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct dovecot_hs h = { 0, 0, 0 };
  const char *s = (const char *)data;
  size_t pos = 0;
  int done = 0;
  while (pos < size) {
    const char *nl = memchr(s + pos, '\n', size - pos);
    size_t n = nl ? (size_t)(nl - (s + pos)) : size - pos;
    char *l = malloc(n ? n : 1);
    int r;
    memcpy(l, s + pos, n);
    if (!done) {
      r = dovecot_handshake(&h, l, n);
      if (r == DV_DONE) done = 1;
      if (r == DV_DONE && (!h.plain || !h.version_ok)) abort();
    }
    r = dovecot_reply(l, n, 1);
    if (r == DV_OK && (n < 4 || memcmp(l, "OK\t1", 4) || (n > 4 && l[4] != '\t'))) abort();
    free(l);
    pos += n + 1;
  }
  return 0;
}
