#ifndef TERN_SEND_REMOTE_MSG_H
#define TERN_SEND_REMOTE_MSG_H
/* What tern-remote must know of the message before it connects: 8-bit
   content (8BITMIME, RFC 6152), the longest line (RFC 5322's 998), and
   the size on the wire (SIZE, RFC 1870). libc only. */
#include <stddef.h>

struct msgscan {
  int eightbit;             /* a byte >= 0x80 */
  size_t longest;           /* longest line, octets without the line end */
  unsigned long wiresize;   /* bytes as sent (LF -> CRLF, a last line ended), before dot-stuffing */
};

/* Feed len bytes of the message (from its start, in pieces); *cr carries
   a CR across pieces and *line the current line's length (both start at
   0). msg_end finishes after the last piece. */
extern void msg_feed(struct msgscan *m, const char *buf, size_t len, int *cr, size_t *line);
extern void msg_end(struct msgscan *m, int cr, size_t line);
#endif
