/* libFuzzer: common/qclient.c's text parser (qclient_parseid,
   qclient_settext, qclient_describe): what a queue program wrote on fd 2
   and fd 6. Input: byte 0 picks the exit code (even: QQ_CUSTOM, else the
   byte itself), then fd 2's bytes, a NUL, fd 6's bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/qclient.h"
#include "common/qqcode.h"

static int isdig(char c) { return c >= '0' && c <= '9'; }
static int isidc(char c) { return isdig(c) || (c >= 'a' && c <= 'z'); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct qclient q;
  const char *s = (const char *)data + 1, *err, *txt, *z;
  size_t errlen, txtlen, n, i, idline;
  int code, perm = -1;
  const char *d;
  if (!size) return 0;
  code = data[0] % 2 ? data[0] : QQ_CUSTOM;
  n = size - 1;
  z = memchr(s, 0, n);
  err = s;
  errlen = z ? (size_t)(z - s) : n;
  txt = z ? z + 1 : s + n;
  txtlen = z ? n - errlen - 1 : 0;
  memset(&q, 'x', sizeof q);
  qclient_settext(&q, code, err, errlen, txt, txtlen);

  /* the id: "" or exactly "msg ID qp DIGITS" (ID: [0-9a-z]+), and then
     fd 2's last line said it (all of fd 2, or after other lines) */
  n = strnlen(q.id, QCLIENT_IDMAX);
  if (n == QCLIENT_IDMAX) abort();
  idline = 0;
  if (n) {
    if (n + 1 > errlen || memcmp(q.id, err + errlen - n - 1, n) || err[errlen - 1] != '\n' || memcmp(q.id, "msg ", 4)) abort();
    if (n + 1 < errlen && err[errlen - n - 2] != '\n') abort();
    idline = n + 1;
    for (i = 4; isidc(q.id[i]); i++) {}
    if (i == 4 || memcmp(q.id + i, " qp ", 4)) abort();
    for (i += 4; isdig(q.id[i]); i++) {}
    if (i != n || !isdig(q.id[n - 1])) abort();
  }
  if (qclient_parseid(q.id, err, errlen) && !n) abort();
  if (n && qclient_parseid(q.id, err + errlen - idline, idline) != 1) abort();

  /* the text: printable, bounded, no trailing space, a prefix of its source */
  n = strnlen(q.text, QCLIENT_TEXTMAX);
  if (n == QCLIENT_TEXTMAX) abort();
  if (n && q.text[n - 1] == ' ') abort();
  for (i = 0; i < n; i++) if (q.text[i] < 0x20 || q.text[i] > 0x7e) abort();
  {
    const char *src = code == QQ_CUSTOM ? (txtlen ? txt + 1 : "") : err;
    size_t srclen = code == QQ_CUSTOM ? (txtlen ? txtlen - 1 : 0) : errlen - idline;
    if (n > srclen) abort();
    for (i = 0; i < n; i++) {
      unsigned char c = (unsigned char)src[i];
      if (c >= 0x20 && c <= 0x7e ? q.text[i] != (char)c : q.text[i] != ' ' && q.text[i] != '?') abort();
    }
  }
  if (q.textperm != (code == QQ_CUSTOM && txtlen && txt[0] == 'D')) abort();

  d = qclient_describe(&q, code, &perm);
  if (!d || !d[0] || (perm != 0 && perm != 1)) abort();
  if (code == QQ_CUSTOM && q.text[0] && (d != q.text || perm != q.textperm)) abort();
  return 0;
}
