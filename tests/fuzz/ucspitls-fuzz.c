/* libFuzzer: common/ucspitls.c, the UCSPI-TLS control reply that
   tern-smtpd and tern-remote read from their TLS process. A reply that parses must format
   back to one that parses to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/ucspitls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct ucspitls_info a, b;
  char buf[UCSPITLS_REPLY_MAX];
  size_t n;
  if (ucspitls_parse((const char *)data, size, &a) < 0) return 0;
  if (size > UCSPITLS_REPLY_MAX || data[size - 1] != '\n') abort();
  n = ucspitls_format(buf, &a);
  if (n > UCSPITLS_REPLY_MAX || ucspitls_parse(buf, n, &b) < 0) abort();
  if (a.ok != b.ok || a.bits != b.bits || strcmp(a.protocol, b.protocol) || strcmp(a.cipher, b.cipher)
      || strcmp(a.servername, b.servername) || strcmp(a.reason, b.reason) || strcmp(a.peer, b.peer)
      || strcmp(a.note, b.note)) abort();
  if (n != size || memcmp(buf, data, n)) abort();
  return 0;
}
