/* send/remote-msg.c: measure the message (remote-msg.h). */
#include "send/remote-msg.h"

void msg_feed(struct msgscan *m, const char *buf, size_t len, int *cr, size_t *line)
{
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)buf[i];
    if (c >= 0x80) m->eightbit = 1;
    if (c == '\n') {
      if (*line > m->longest) m->longest = *line;
      *line = 0; *cr = 0;
      m->wiresize += 2;
      continue;
    }
    if (*cr) { (*line)++; m->wiresize++; }   /* the previous CR was a stray one */
    *cr = (c == '\r');
    if (!*cr) { (*line)++; m->wiresize++; }
  }
}

void msg_end(struct msgscan *m, int cr, size_t line)
{
  if (cr) { line++; m->wiresize++; }
  if (line) { if (line > m->longest) m->longest = line; m->wiresize += 2; }
}
