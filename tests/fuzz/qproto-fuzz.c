/* libFuzzer: common/qproto.c, tern-queued's reader of the queue socket.
   The input after its first byte is the client's stream; it is parsed
   whole and in chunks whose size the first byte picks, and both must give
   the same events, message and envelope. Whatever completes (END) must be
   an envelope that tern-send's reader (envelope_next) walks cleanly: what
   the injector accepts, the scheduler accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/envelope.h"
#include "common/qproto.h"

struct run { int last; uint64_t mlen; size_t elen; char *env; size_t ecap; uint64_t mhash; };

static void run(const char *s, size_t size, size_t chunk, uint64_t maxbytes, struct run *o)
{
  struct qproto_reader r = QPROTO_READER_ZERO;
  size_t i = 0;
  memset(o, 0, sizeof *o);
  o->ecap = size + 1;
  o->env = malloc(o->ecap);
  o->last = QPROTO_MORE;
  while (i < size) {
    size_t n = size - i < chunk ? size - i : chunk, off = 0;
    while (off < n) {
      const char *out;
      size_t used, ol;
      int ev = qproto_next(&r, s + i + off, n - off, &used, &out, &ol, maxbytes);
      if (used > n - off) abort();
      if (ol && (out < s + i + off || out + ol > s + i + n)) abort();
      off += used;
      o->last = ev;
      if (ev < 0) return;
      if (ev == QPROTO_MSG) {
        for (size_t k = 0; k < ol; k++) o->mhash = o->mhash * 31 + (unsigned char)out[k];
        o->mlen += ol;
      }
      if (ev == QPROTO_ENV || ev == QPROTO_END) {
        if (o->elen + ol > o->ecap) abort();
        memcpy(o->env + o->elen, out, ol);
        o->elen += ol;
      }
      if (ev == QPROTO_MORE || ev == QPROTO_END) break;
      if (!used && ev != QPROTO_MSG && ev != QPROTO_ENV) abort();
    }
    if (o->last == QPROTO_END && off < n) { o->last = QPROTO_EFORMAT; return; }
    i += n;
  }
  if (maxbytes && o->mlen > maxbytes) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct run a, b;
  uint64_t maxbytes;
  if (size < 1) return 0;
  maxbytes = data[0] & 0x80 ? (uint64_t)(data[0] & 0x7f) * 100 : 0;
  run((const char *)data + 1, size - 1, size, maxbytes, &a);
  run((const char *)data + 1, size - 1, (size_t)(data[0] % 7) + 1, maxbytes, &b);
  if ((a.last < 0) != (b.last < 0)) abort();
  if (a.last >= 0 && (a.last == QPROTO_END) != (b.last == QPROTO_END)) abort();
  if (a.last == QPROTO_END) {
    size_t pos = 0, vl;
    const char *v;
    char t;
    int k;
    if (a.mlen != b.mlen || a.mhash != b.mhash || a.elen != b.elen || memcmp(a.env, b.env, a.elen)) abort();
    while ((k = envelope_next(a.env, a.elen, &pos, &t, &v, &vl)) == 1) {}
    if (k != 0) abort();  /* accepted by the injector, refused by tern-send */
  }
  free(a.env);
  free(b.env);
  return 0;
}
