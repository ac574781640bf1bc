/* tests/bench/data-feed.c: the DATA content state machine (smtpd/smtp.c,
   smtp_data_feed) on a 10 MiB message of 78-octet lines, fed in 64 KiB
   reads as tern-smtpd does, N times (argument, default 10). Build and
   measure from the top of the tree after make:
     cc -O2 -I. -o /tmp/data-feed tests/bench/data-feed.c smtpd/smtp.o common/common.a
     perf stat -e task-clock /tmp/data-feed 10
     valgrind --tool=callgrind /tmp/data-feed 1     (instructions)
   Exit 1 if the message does not end cleanly (done, no flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "smtpd/smtp.h"
int main(int argc, char **argv)
{
  size_t total = 10u << 20, chunk = 65536, n = 0;
  int reps = argc > 1 ? atoi(argv[1]) : 10;
  char *msg = malloc(total + 16), *out = malloc(chunk + 1);
  const char *hdr = "Subject: bench\r\nFrom: a@b\r\n\r\n";
  size_t pos = strlen(hdr);
  memcpy(msg, hdr, pos);
  while (pos < total - 80) { memset(msg + pos, 'x', 76); msg[pos] = (pos & 1024) ? '.' : 'y'; pos += 76; msg[pos++] = '\r'; msg[pos++] = '\n'; }
  memcpy(msg + pos, ".\r\n", 3); pos += 3;
  for (int r = 0; r < reps; r++) {
    struct smtp_data d;
    smtp_data_init(&d, SMTP_MODE_DATA, 0);
    for (size_t i = 0; i < pos && !d.done; ) {
      size_t o, k = pos - i < chunk ? pos - i : chunk;
      i += smtp_data_feed(&d, msg + i, k, out, &o);
      n += o;
    }
    if (!d.done || d.flags) { printf("bad %d %u\n", d.done, d.flags); return 1; }
  }
  printf("%zu bytes out\n", n);
  return 0;
}
