/* spawnreq: framing tern-send's spawner requests (see spawnreq.h). The
   input comes from tern-send, but tern-lspawn reads it as root, so every
   field is bounded before it is looked at. */
#include <string.h>
#include "send/spawnreq.h"

int spawnreq_frame(const char *buf, size_t len, struct spawnreq *r, size_t *used)
{
  const char *f[2 + SPAWNREQ_RCPT_MAX];
  size_t nf = 0, pos = 1;
  if (!len) return SPAWNREQ_MORE;
  for (;;) {
    /* field nf: 0 is N, 1 the sender, 2 and up the recipients; after the
       last recipient allowed only the empty field may come */
    size_t max = !nf ? SPAWNREQ_NUM_MAX : nf < 2 + SPAWNREQ_RCPT_MAX ? SPAWNREQ_ADDR_MAX : 0;
    size_t avail = len - pos, l;
    const char *z = memchr(buf + pos, 0, avail < max + 1 ? avail : max + 1);
    if (!z) {
      if (avail <= max) return SPAWNREQ_MORE;
      return !nf ? SPAWNREQ_ENUM : nf < 2 + SPAWNREQ_RCPT_MAX ? SPAWNREQ_EADDR : SPAWNREQ_ERCPT;
    }
    l = (size_t)(z - (buf + pos));
    if (!nf && !l) return SPAWNREQ_ENUM;
    if (nf >= 2 && !l) { pos++; break; }                  /* the empty field: end */
    f[nf++] = buf + pos;
    pos += l + 1;
  }
  r->slot = (unsigned char)buf[0];
  r->num = f[0];
  r->sender = f[1];
  r->nrcpt = nf - 2;
  for (size_t i = 2; i < nf; i++) r->rcpt[i - 2] = f[i];
  *used = pos;
  return SPAWNREQ_OK;
}

const char *spawnreq_error(int code)
{
  switch (code) {
    case SPAWNREQ_ENUM: return "message number empty or over 20 bytes";
    case SPAWNREQ_EADDR: return "address over 1000 bytes";
    case SPAWNREQ_ERCPT: return "more than 100 recipients";
    default: return "malformed request";
  }
}
