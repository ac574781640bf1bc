#ifndef TERN_SEND_REMOTE_CONN_H
#define TERN_SEND_REMOTE_CONN_H
/* tern-remote's one SMTP connection: the socket (or tern-tlsc's channel)
   in c.fd, buffered output, replies read into rep with remote-reply.c.
   Every wait is bounded: timeoutconnect for the connect, timeoutremote
   for each read or write (seconds; tern-remote sets them from its
   control files, as outip/haveoutip from control/outgoingip). Edge
   (libowfat sockets). */
#include <stddef.h>
#include "send/remote-reply.h"
#include "send/remote-route.h"

struct conn {
  int fd;
  char in[4096]; size_t inpos, inlen;
  char out[8192]; size_t outlen;
};
extern struct conn c;
extern struct reply rep;
extern unsigned long timeoutconnect, timeoutremote;
extern char outip[16];
extern int haveoutip;

#define R_EOF -1
#define R_IO -2       /* error or timeout; errno */
#define R_BAD -3      /* malformed reply; rep.err */

/* wait for fd to be ready for ev (POLLIN, POLLOUT) at most secs seconds:
   1 ready, 0 timeout, -1 error */
extern int waitfd(int fd, short ev, unsigned long secs);
/* a non-blocking TCP connection to x (from outip when set, same family):
   the socket, or -1 with errno (ETIMEDOUT after timeoutconnect) */
extern int tcpconnect(const struct route_target *x);
/* write what is buffered to c.fd: 0, or -1 (errno) */
extern int flush(void);
/* buffer n bytes (a C string), flushing when full: 0, or -1 */
extern int put(const char *s, size_t n);
extern int puts_(const char *s);
/* flush, then read one reply into rep: its code, or R_EOF, R_IO, R_BAD */
extern int getreply(void);
#endif
