#ifndef TERN_SMTPD_IO_H
#define TERN_SMTPD_IO_H
/* io: tern-smtpd's reading of commands on fd 0 and writing of replies on
   fd 1 (libowfat buffers), with the session's time limits. Replies are
   buffered and flushed before any read would block (RFC 2920 3.2). */
#include <stddef.h>
#include <time.h>
#include "buffer.h"

extern buffer io_bin, io_bout;
extern time_t io_deadline;          /* the whole session: reads stop here */
extern unsigned long io_timeout;    /* seconds one read or write may wait */
/* called when a write fails or times out (what: a log text); must not return */
extern void (*io_fail)(const char *what);

/* the buffers on fd 0 and fd 1; again after STARTTLS, which drops every
   byte read but not yet used (RFC 3207 4.2) */
extern void io_init(void);

/* wait until fd is ready for ev (POLLIN, POLLOUT) for at most io_timeout
   seconds (reads also not past io_deadline): 0, or -1 with errno
   (ETIMEDOUT on timeout) */
extern int io_wait(int fd, short ev);

extern void io_out(const char *s);
extern void io_reply(const char *line);    /* line and CRLF */
extern void io_flush(void);

/* one line of at most max bytes, CRLF included, into x (max bytes) as
   x[0..*n) without CRLF:
   1; 0 EOF; -1 error or timeout (errno); -2 too long (read to its LF);
   -3 ended by a bare LF */
extern int io_getline(char *x, size_t max, size_t *n);
#endif
