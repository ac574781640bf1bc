/* envelope: the qmail-queue envelope on the wire (validated byte by byte,
   so a reader needs no buffer for it) and the records of a queue envelope
   file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/envelope.h"
#include "common/qqcode.h"

enum { S_F, S_SENDER, S_TYPE, S_RCPT, S_DONE, S_EFORMAT, S_ETOOLONG };

static int result(unsigned st)
{
  if (st == S_DONE) return ENVELOPE_DONE;
  if (st == S_EFORMAT) return ENVELOPE_EFORMAT;
  if (st == S_ETOOLONG) return ENVELOPE_ETOOLONG;
  return ENVELOPE_MORE;
}

int envelope_valbyte(char c) { return c != 0 && c != '\n'; }

int envelope_feed(struct envelope_reader *r, const char *s, size_t len, size_t *used)
{
  size_t i;
  *used = 0;
  if (r->state >= S_DONE) return result(r->state);
  for (i = 0; i < len; i++) {
    char c = s[i];
    switch (r->state) {
      case S_F:
        if (c != 'F') { r->state = S_EFORMAT; goto out; }
        r->state = S_SENDER;
        r->field = 0;
        break;
      case S_SENDER:
      case S_RCPT:
        if (!c) {
          if (r->state == S_RCPT && !r->field) { r->state = S_EFORMAT; goto out; }  /* empty recipient */
          r->state = S_TYPE;
          break;
        }
        if (!envelope_valbyte(c)) { r->state = S_EFORMAT; goto out; }
        if (++r->field > ENVELOPE_ADDR_MAX) { r->state = S_ETOOLONG; goto out; }
        break;
      case S_TYPE:
        if (!c) { r->state = S_DONE; i++; goto out; }
        if (c != 'T' || r->nrcpt >= ENVELOPE_RCPT_MAX) { r->state = S_EFORMAT; goto out; }
        r->nrcpt++;
        r->state = S_RCPT;
        r->field = 0;
        break;
      default:
        r->state = S_EFORMAT;
        goto out;
    }
  }
out:
  *used = i;
  return result(r->state);
}

int envelope_next(const char *buf, size_t len, size_t *pos, char *type, const char **value, size_t *vlen)
{
  size_t p = *pos;
  const char *nul;
  if (p >= len) return p == len ? 0 : -1;
  if (!buf[p]) return (p + 1 == len) ? 0 : -1;  /* one final NUL (qmail-queue form) ends it too */
  nul = memchr(buf + p + 1, 0, len - p - 1);
  if (!nul) return -1;
  if ((size_t)(nul - (buf + p + 1)) > ENVELOPE_ADDR_MAX) return -1;
  for (const char *c = buf + p + 1; c < nul; c++)
    if (!envelope_valbyte(*c)) return -1;
  *type = buf[p];
  *value = buf + p + 1;
  *vlen = (size_t)(nul - (buf + p + 1));
  *pos = (size_t)(nul - buf) + 1;
  return 1;
}

static int readfd_fail(char **buf, int code)
{
  free(*buf);
  *buf = 0;
  return code;
}

int envelope_readfd(int fd, char **buf, size_t *len)
{
  struct envelope_reader er = ENVELOPE_READER_ZERO;
  size_t cap = 0;
  char b[65536];
  *buf = 0;
  *len = 0;
  for (;;) {
    size_t used;
    int e;
    ssize_t r = read(fd, b, sizeof b);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return readfd_fail(buf, QQ_READ);
    if (r == 0) return readfd_fail(buf, QQ_ENVELOPE);
    e = envelope_feed(&er, b, (size_t)r, &used);
    if (e == ENVELOPE_ETOOLONG) return readfd_fail(buf, QQ_TOOLONG);
    if (e < 0) return readfd_fail(buf, QQ_ENVELOPE);
    if (*len + used > cap) {
      char *n;
      cap = (*len + used) * 2;
      n = realloc(*buf, cap);
      if (!n) return readfd_fail(buf, QQ_NOMEM);
      *buf = n;
    }
    memcpy(*buf + *len, b, used);
    *len += used;
    if (e == ENVELOPE_DONE) return 0;
  }
}
