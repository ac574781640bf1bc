/* qproto: the queue socket's frames (common/qproto.h). */
#include <string.h>
#include "common/qproto.h"

enum { S_HDR, S_MSG, S_ENV, S_END, S_EFORMAT, S_ETOOLONG, S_EBIG };

static int fail(struct qproto_reader *r, unsigned st)
{
  r->state = st;
  switch (st) {
    case S_ETOOLONG: return QPROTO_ETOOLONG;
    case S_EBIG: return QPROTO_EBIG;
    default: return QPROTO_EFORMAT;
  }
}

/* a complete header in r->hdr: start the frame */
static int frame(struct qproto_reader *r, uint64_t maxbytes)
{
  uint32_t n = (uint32_t)r->hdr[1] << 24 | (uint32_t)r->hdr[2] << 16 | (uint32_t)r->hdr[3] << 8 | r->hdr[4];
  r->hlen = 0;
  if (!n || n > QPROTO_FRAME_MAX) return fail(r, S_EFORMAT);
  if (r->hdr[0] == 'M') {
    if (r->env.state) return fail(r, S_EFORMAT);  /* M after E */
    if (maxbytes && r->msgbytes + n > maxbytes) return fail(r, S_EBIG);
    r->msgbytes += n;
    r->state = S_MSG;
  } else if (r->hdr[0] == 'E') r->state = S_ENV;
  else return fail(r, S_EFORMAT);
  r->left = n;
  return QPROTO_MORE;
}

/* envelope bytes s[0..n) of the current frame */
static int envbytes(struct qproto_reader *r, const char *s, size_t n, size_t *used, const char **out, size_t *outlen)
{
  size_t u;
  int e = envelope_feed(&r->env, s, n, &u);
  if (e == ENVELOPE_ETOOLONG) return fail(r, S_ETOOLONG);
  if (e < 0) return fail(r, S_EFORMAT);
  *out = s;
  *outlen = u;
  *used = u;
  r->left -= (uint32_t)u;
  if (e == ENVELOPE_MORE) {
    if (!r->left) r->state = S_HDR;
    return QPROTO_ENV;
  }
  /* DONE: the final NUL must end the frame */
  if (r->left) return fail(r, S_EFORMAT);
  r->state = S_END;
  (*outlen)--;  /* not the final NUL */
  return QPROTO_END;
}

int qproto_next(struct qproto_reader *r, const char *s, size_t len, size_t *used,
                const char **out, size_t *outlen, uint64_t maxbytes)
{
  size_t i = 0;
  *used = 0;
  *out = s;
  *outlen = 0;
  for (;;) {
    switch (r->state) {
      case S_HDR:
        while (i < len && r->hlen < QPROTO_HDR) r->hdr[r->hlen++] = (unsigned char)s[i++];
        *used = i;
        if (r->hlen < QPROTO_HDR) return QPROTO_MORE;
        {
          int e = frame(r, maxbytes);
          if (e < 0) return e;
        }
        continue;
      case S_MSG: {
        size_t n = len - i < r->left ? len - i : r->left;
        if (!n) return QPROTO_MORE;
        *out = s + i;
        *outlen = n;
        *used = i + n;
        r->left -= (uint32_t)n;
        if (!r->left) r->state = S_HDR;
        return QPROTO_MSG;
      }
      case S_ENV: {
        size_t n = len - i < r->left ? len - i : r->left, u = 0;
        int e;
        if (!n) return QPROTO_MORE;
        e = envbytes(r, s + i, n, &u, out, outlen);
        *used = i + u;
        return e;
      }
      case S_END:
        if (i < len) return fail(r, S_EFORMAT);
        return QPROTO_END;
      default:
        return fail(r, r->state);
    }
  }
}

void qproto_hdr(unsigned char h[QPROTO_HDR], char t, uint32_t n)
{
  h[0] = (unsigned char)t;
  h[1] = (unsigned char)(n >> 24);
  h[2] = (unsigned char)(n >> 16);
  h[3] = (unsigned char)(n >> 8);
  h[4] = (unsigned char)n;
}

size_t qproto_reply(char *r, int code, const char *id, size_t idlen)
{
  if (idlen > QPROTO_ID_MAX) idlen = QPROTO_ID_MAX;
  r[0] = (char)(unsigned char)code;
  r[1] = (char)(unsigned char)idlen;
  if (idlen) memcpy(r + 2, id, idlen);
  return 2 + idlen;
}

int qproto_parsereply(const char *s, size_t n, int *code, char *id)
{
  size_t l;
  id[0] = 0;
  if (n < 2) return 0;
  l = (unsigned char)s[1];
  if (l > QPROTO_ID_MAX || n != 2 + l) return 0;
  *code = (unsigned char)s[0];
  memcpy(id, s + 2, l);
  id[l] = 0;
  return 1;
}
