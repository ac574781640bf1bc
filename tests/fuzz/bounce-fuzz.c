/* bounce-fuzz: send/sched.c's bounce builder, bounce/N parser, origin
   reader and control/bouncebody line parser on hostile bytes. Input:
   sender, NUL, bounce/N contents, NUL, original message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "send/sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *d = (const char *)data;
  char sender[1001];
  const char *z1 = memchr(d, 0, size), *z2;
  size_t sl, n, n2;
  char *out;
  struct sched_bounce_in b;
  char st[16];
  if (!z1) return 0;
  sl = (size_t)(z1 - d);
  if (sl > 1000) sl = 1000;
  memcpy(sender, d, sl);
  sender[sl] = 0;
  z2 = memchr(z1 + 1, 0, size - (size_t)(z1 + 1 - d));
  if (!z2) z2 = d + size;
  b.kind = (int)(size % 3);
  b.to = sender;
  b.bouncefrom = "MAILER-DAEMON";
  b.bouncehost = "me.test";
  b.mta = "me.test";
  b.date = "Thu, 1 Jan 2026 00:00:00 +0000";
  b.arrival = size & 1 ? b.date : 0;
  b.msgid = size & 2 ? "<1.2@me.test>" : 0;
  b.boundary = "tern";
  b.id = 42;
  b.failures = z1 + 1;
  b.flen = (size_t)(z2 - (z1 + 1));
  b.message = z2 < d + size ? z2 + 1 : z2;
  b.mlen = (size_t)(d + size - b.message);
  b.msize = b.mlen + (size & 4 ? 1 : 0);
  b.maxbytes = size & 8 ? 16 : 1000000;
  n = sched_bounce(0, &b);
  out = malloc(n + 1);
  if (!out) return 0;
  n2 = sched_bounce(out, &b);
  if (n2 != n) abort();
  free(out);
  sched_status(b.failures, b.flen, st);
  if (strlen(st) > 15 || st[0] != '5') abort();
  {
    const char *nm;
    size_t nl;
    if (sched_remote_mta(b.failures, b.flen, &nm, &nl) && (nm < b.failures || nm + nl > b.failures + b.flen || !nl)) abort();
  }
  {
    unsigned char mode[SCHED_ORIGINS];
    int o = sched_origin(b.message, b.mlen, (int)(size & 16), size & 32 ? SCHED_UID_UNKNOWN : 995);
    if (o < 0 || o >= SCHED_ORIGINS) abort();
    sched_bodymode_default(mode);
    if (sched_bodymode_line(sender, sl, mode) && memchr(mode, 2, sizeof mode)) abort();
  }
  n = sched_bounce_para(0, sender, sl, b.failures, b.flen);
  out = malloc(n);
  if (!out) return 0;
  if (sched_bounce_para(out, sender, sl, b.failures, b.flen) != n) abort();
  free(out);
  return 0;
}
