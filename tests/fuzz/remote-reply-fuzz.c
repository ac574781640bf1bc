/* remote-reply-fuzz: libFuzzer harness for send/remote-reply.c (SMTP
   replies from remote servers). Feeds the input in pieces of varying size, one reply after
   another, and checks the parser's invariants. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/remote-reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct reply r;
  struct ehlo e;
  size_t pos = 0, step = size ? (size_t)(data[0] % 7) + 1 : 1;
  reply_init(&r);
  while (pos < size) {
    size_t used, n = size - pos < step ? size - pos : step;
    int ret = reply_feed(&r, (const char *)data + pos, n, &used);
    if (used > n) abort();
    if (r.textlen > REPLY_TEXT_MAX || strlen(r.text) != r.textlen) abort();
    if (r.lines > REPLY_LINES_MAX) abort();
    pos += used;
    if (ret == REPLY_DONE) {
      if (r.code < 200 || r.code > 599) abort();
      reply_ehlo(&r, &e);
      reply_init(&r);
    } else if (ret < 0) {
      reply_init(&r);
      pos++;  /* skip a byte and go on, like a fresh connection */
    } else if (used != n) abort();
  }
  return 0;
}
