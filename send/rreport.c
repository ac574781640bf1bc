/* rreport.c: validate and convert tern-remote's reports (see rreport.h) */
#include <string.h>
#include "send/rreport.h"

static size_t put(char *dst, size_t room, const char *s, size_t n)
{
  size_t i;
  if (n > room) n = room;
  for (i = 0; i < n; i++) {
    unsigned char u = (unsigned char)s[i];
    dst[i] = (u == '\n' || (u >= 0x20 && u <= 0x7e)) ? s[i] : '?';
  }
  return n;
}

size_t rreport_all(char *dst, size_t nrcpt, char letter, const char *msg)
{
  size_t w = 0, ml = strlen(msg);
  for (size_t i = 0; i < nrcpt; i++) {
    dst[w++] = letter;
    w += put(dst + w, RREPORT_TEXT_MAX, msg, ml);
    dst[w++] = 0;
  }
  return w;
}

size_t rreport_reply(char *dst, const char *out, size_t len, int overflow, size_t nrcpt, int *ok)
{
  size_t pos = 0, nr = 0, w = 0;
  size_t rstart[RREPORT_RCPT_MAX], rlen[RREPORT_RCPT_MAX];
  size_t mstart = 0, mlen = 0;
  char mletter = 0;
  *ok = 0;
  if (nrcpt > RREPORT_RCPT_MAX) nrcpt = RREPORT_RCPT_MAX;
  if (overflow) return rreport_all(dst, nrcpt, 'Z', "tern-remote produced too much output. (#4.3.0)");
  if (!len) return rreport_all(dst, nrcpt, 'Z', "tern-remote produced no output. (#4.3.0)");
  while (pos < len) {
    const char *nul = memchr(out + pos, 0, len - pos);
    size_t rl;
    char l;
    if (!nul || mletter) goto bad;          /* unterminated, or bytes after the message report */
    rl = (size_t)(nul - (out + pos));
    if (!rl) goto bad;                      /* empty record */
    l = out[pos];
    if (l == 'r' || l == 'h' || l == 's') {
      if (nr >= nrcpt) goto bad;
      rstart[nr] = pos; rlen[nr] = rl; nr++;
    } else if (l == 'K' || l == 'Z' || l == 'D') {
      mletter = l; mstart = pos + 1; mlen = rl - 1;
    } else goto bad;
    pos += rl + 1;
  }
  if (!mletter) goto bad;
  for (size_t i = 0; i < nrcpt; i++) {
    char letter = mletter;
    size_t room = RREPORT_TEXT_MAX;
    if (i < nr) {
      char rl = out[rstart[i]];
      if (rl == 'h') letter = 'D';
      else if (rl == 's') letter = 'Z';
      else letter = (mletter == 'K') ? 'K' : mletter;
    }
    dst[w++] = letter;
    if (i < nr && rlen[i] > 1) {
      size_t n = put(dst + w, room, out + rstart[i] + 1, rlen[i] - 1);
      w += n; room -= n;
      /* a refused recipient's own text says it all: the message report
         is about the others ("accepted message" would mislead a bounce) */
      if (out[rstart[i]] != 'r') { dst[w++] = 0; continue; }
      if (room && mlen) { dst[w++] = '\n'; room--; }
    }
    w += put(dst + w, room, out + mstart, mlen);
    dst[w++] = 0;
  }
  *ok = 1;
  return w;
bad:
  return rreport_all(dst, nrcpt, 'Z', "tern-remote produced malformed output. (#4.3.0)");
}
