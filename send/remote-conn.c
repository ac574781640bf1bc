/* send/remote-conn.c: tern-remote's SMTP connection (remote-conn.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "socket.h"
#include "ip6.h"

#include "send/remote-conn.h"

struct conn c;
struct reply rep;

/* wait for fd to be ready; 1 ready, 0 timeout, -1 error */
int waitfd(int fd, short ev, unsigned long secs)
{
  struct pollfd p;
  struct timespec now, dl;
  clock_gettime(CLOCK_MONOTONIC, &dl);
  dl.tv_sec += (time_t)secs;
  for (;;) {
    long ms;
    int r;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long)(dl.tv_sec - now.tv_sec) * 1000 + (dl.tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0) return 0;
    p.fd = fd; p.events = ev; p.revents = 0;
    r = poll(&p, 1, ms > 3600000 ? 3600000 : (int)ms);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r > 0) return 1;
  }
}

int tcpconnect(const struct route_target *x)
{
  int v4 = ip6_isv4mapped(x->ip);
  int s = v4 ? socket_tcp4() : socket_tcp6();     /* non-blocking */
  int r, e = 0;
  socklen_t el = sizeof e;
  if (s == -1) return -1;
  if (haveoutip && ip6_isv4mapped(outip) == v4) {
    r = v4 ? socket_bind4(s, outip + 12, 0) : socket_bind6(s, outip, 0, 0);
    if (r == -1) { e = errno; close(s); errno = e; return -1; }
  }
  r = v4 ? socket_connect4(s, x->ip + 12, x->port) : socket_connect6(s, x->ip, x->port, 0);
  if (!r) return s;
  if (errno != EINPROGRESS && errno != EWOULDBLOCK) { e = errno; close(s); errno = e; return -1; }
  r = waitfd(s, POLLOUT, timeoutconnect);
  if (r <= 0) { close(s); errno = r ? errno : ETIMEDOUT; return -1; }
  if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) == -1) e = errno;
  if (e) { close(s); errno = e; return -1; }
  return s;
}

int flush(void)
{
  size_t done = 0;
  while (done < c.outlen) {
    ssize_t w = write(c.fd, c.out + done, c.outlen - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      int r = waitfd(c.fd, POLLOUT, timeoutremote);
      if (r <= 0) { if (!r) errno = ETIMEDOUT; return -1; }
      continue;
    }
    done += (size_t)w;
  }
  c.outlen = 0;
  return 0;
}

int put(const char *s, size_t n)
{
  while (n) {
    size_t k = sizeof c.out - c.outlen;
    if (!k) { if (flush() == -1) return -1; continue; }
    if (k > n) k = n;
    memcpy(c.out + c.outlen, s, k);
    c.outlen += k; s += k; n -= k;
  }
  return 0;
}
int puts_(const char *s) { return put(s, strlen(s)); }

/* read one reply into rep; returns its code or R_* */
int getreply(void)
{
  if (c.outlen && flush() == -1) return R_IO;
  reply_init(&rep);
  for (;;) {
    if (c.inpos < c.inlen) {
      size_t used;
      int r = reply_feed(&rep, c.in + c.inpos, c.inlen - c.inpos, &used);
      c.inpos += used;
      if (r == REPLY_DONE) return rep.code;
      if (r < 0) return R_BAD;
      continue;
    }
    ssize_t n = read(c.fd, c.in, sizeof c.in);
    if (n > 0) { c.inpos = 0; c.inlen = (size_t)n; continue; }
    if (!n) return R_EOF;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return R_IO;
    int w = waitfd(c.fd, POLLIN, timeoutremote);
    if (w <= 0) { if (!w) errno = ETIMEDOUT; return R_IO; }
  }
}
