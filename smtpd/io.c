/* io: tern-smtpd's command and reply streams. See io.h. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include "smtpd/io.h"

buffer io_bin, io_bout;
time_t io_deadline;
unsigned long io_timeout = 1200;
void (*io_fail)(const char *what);

static char inbuf[8192];
static char outbuf[4096];

int io_wait(int fd, short ev)
{
  for (;;) {
    time_t now = time(0);
    long t = (long)io_timeout;
    struct pollfd p;
    int r;
    /* the session cap limits reading; a write (the 421 that ends a
       capped session, too) gets io_timeout */
    if (ev == POLLIN && io_deadline - now < t) t = (long)(io_deadline - now);
    if (t <= 0) { errno = ETIMEDOUT; return -1; }
    p.fd = fd;
    p.events = ev;
    p.revents = 0;
    r = poll(&p, 1, (int)(t > 100000 ? 100000000 : t * 1000));
    if (r > 0) return 0;
    if (r == 0) { errno = ETIMEDOUT; return -1; }
    if (errno != EINTR) return -1;
  }
}

static ssize_t safewrite(int fd, const char *buf, size_t len)
{
  ssize_t r;
  if (io_wait(fd, POLLOUT) < 0) io_fail("write timeout or error, closing");
  r = write(fd, buf, len);
  if (r <= 0) {
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    io_fail("write error, closing");
  }
  return r;
}

/* flush our replies before we would block reading (RFC 2920 3.2) */
static ssize_t saferead(int fd, char *buf, size_t len)
{
  ssize_t r;
  if (buffer_flush(&io_bout) < 0) io_fail("write error, closing");
  if (io_wait(fd, POLLIN) < 0) return -1;
  do r = read(fd, buf, len); while (r < 0 && errno == EINTR);
  return r;
}

void io_init(void)
{
  buffer_init(&io_bin, (ssize_t (*)())saferead, 0, inbuf, sizeof inbuf);
  buffer_init(&io_bout, (ssize_t (*)())safewrite, 1, outbuf, sizeof outbuf);
}

void io_out(const char *s) { buffer_puts(&io_bout, s); }
void io_flush(void) { buffer_flush(&io_bout); }
void io_reply(const char *line) { io_out(line); io_out("\r\n"); }

int io_getline(char *x, size_t max, size_t *n)
{
  size_t len = 0, total = 0;
  int toolong = 0;
  for (;;) {
    char c;
    ssize_t r = buffer_getc(&io_bin, &c);
    if (r <= 0) return (int)r;
    total++;
    if (c == '\n') break;
    if (len < max) x[len++] = c; else toolong = 1;
  }
  if (toolong || total > max) return -2;
  if (!len || x[len - 1] != '\r') return -3;
  *n = len - 1;
  return 1;
}
