/* spawnreq-fuzz: libFuzzer harness for send/spawnreq.c, the framer of the
   requests tern-lspawn reads as root. The input is fed the way the spawner
   loop feeds it: in pieces of varying size into a buffer of SPAWNREQ_MAX
   bytes, framing every whole request and keeping the rest. Checks: a
   request's fields lie inside it, within their limits, and put back
   together they are exactly its bytes; MORE leaves room in the buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/spawnreq.h"

static void check(const char *b, size_t used, const struct spawnreq *r)
{
  static char again[SPAWNREQ_MAX];
  size_t n = 0, l;
  if (used < 5 || used > SPAWNREQ_MAX || r->nrcpt > SPAWNREQ_RCPT_MAX) abort();
  again[n++] = (char)r->slot;
  l = strlen(r->num);
  if (!l || l > SPAWNREQ_NUM_MAX || r->num != b + 1) abort();
  memcpy(again + n, r->num, l + 1); n += l + 1;
  l = strlen(r->sender);
  if (l > SPAWNREQ_ADDR_MAX || r->sender != b + n) abort();
  memcpy(again + n, r->sender, l + 1); n += l + 1;
  for (size_t i = 0; i < r->nrcpt; i++) {
    l = strlen(r->rcpt[i]);
    if (!l || l > SPAWNREQ_ADDR_MAX || r->rcpt[i] != b + n) abort();
    memcpy(again + n, r->rcpt[i], l + 1); n += l + 1;
  }
  again[n++] = 0;
  if (n != used || memcmp(again, b, n)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char buf[SPAWNREQ_MAX];
  /* 1..32 pieces, as a pipe delivers them: every boundary gets tried
     on short inputs, and long ones are not rescanned byte by byte */
  size_t len = 0, pos = 0, step = size ? size / (1 + data[0] % 32u) + 1 : 1;
  while (pos < size) {
    size_t n = size - pos < step ? size - pos : step, at = 0;
    if (n > sizeof buf - len) n = sizeof buf - len;
    memcpy(buf + len, data + pos, n);
    len += n;
    pos += n;
    for (;;) {
      struct spawnreq r;
      size_t used = 0;
      int e = spawnreq_frame(buf + at, len - at, &r, &used);
      if (e == SPAWNREQ_MORE) {
        if (len - at >= SPAWNREQ_MAX) abort();
        break;
      }
      if (e < 0) {
        if (e != SPAWNREQ_ENUM && e != SPAWNREQ_EADDR && e != SPAWNREQ_ERCPT) abort();
        if (!spawnreq_error(e)) abort();
        return 0;   /* the spawner dies here */
      }
      if (e != SPAWNREQ_OK || used > len - at) abort();
      check(buf + at, used, &r);
      at += used;
    }
    memmove(buf, buf + at, len - at);
    len -= at;
  }
  return 0;
}
