/* send/remote-dns.c: one validated DNS question (remote-dns.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include "send/remote-dns.h"

#define ANSWER_MAX 65535

size_t dns_query(unsigned char *buf, size_t cap, const char *name, uint16_t type, uint16_t id)
{
  size_t n = strlen(name), pos = 12, lab = 0;
  static const unsigned char opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0 };   /* OPT, 1232, DO */
  if (n && name[n - 1] == '.') n--;
  if (!n || n > 253 || cap < DNS_QUERY_MAX) return 0;
  memset(buf, 0, 12);
  buf[0] = (unsigned char)(id >> 8); buf[1] = (unsigned char)id;
  buf[2] = 0x01;          /* RD */
  buf[3] = 0x20;          /* AD */
  buf[5] = 1;             /* QDCOUNT */
  buf[11] = 1;            /* ARCOUNT: the OPT record */
  for (size_t i = 0; i <= n; i++) {
    if (i == n || name[i] == '.') {
      size_t l = i - lab;
      if (!l || l > 63) return 0;
      buf[pos++] = (unsigned char)l;
      memcpy(buf + pos, name + lab, l);
      pos += l;
      lab = i + 1;
    }
  }
  buf[pos++] = 0;
  buf[pos++] = (unsigned char)(type >> 8); buf[pos++] = (unsigned char)type;
  buf[pos++] = 0; buf[pos++] = 1;   /* IN */
  memcpy(buf + pos, opt, sizeof opt);
  return pos + sizeof opt;
}

/* skip a possibly compressed name at p[*pos]; 0 or -1 */
static int skipname(const unsigned char *p, size_t len, size_t *pos)
{
  for (int hops = 0; hops < 128; hops++) {
    unsigned c;
    if (*pos >= len) return -1;
    c = p[*pos];
    if (!c) { (*pos)++; return 0; }
    if ((c & 0xc0) == 0xc0) { if (*pos + 2 > len) return -1; *pos += 2; return 0; }
    if (c & 0xc0) return -1;
    *pos += 1 + c;
  }
  return -1;
}

static int caseeq(const unsigned char *a, const unsigned char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
    if (x != y) return 0;
  }
  return 1;
}

static void keep(const unsigned char *r, size_t rl, struct dns_answer *a)
{
  struct dns_tlsa *t;
  if (rl < 4 || rl - 3 > DNS_TLSA_DATA_MAX || a->ntlsa == DNS_TLSA_MAX) { a->skipped++; return; }
  t = &a->t[a->ntlsa++];
  t->usage = r[0]; t->selector = r[1]; t->mtype = r[2];
  t->len = (uint16_t)(rl - 3);
  memcpy(t->data, r + 3, rl - 3);
}

static void keeptxt(const unsigned char *r, size_t rl, struct dns_answer *a)
{
  struct dns_txt *x;
  size_t pos = 0, n = 0;
  if (a->ntxt == DNS_TXT_MAX) { a->skipped++; return; }
  x = &a->x[a->ntxt];
  while (pos < rl) {
    size_t l = r[pos++];
    if (pos + l > rl || n + l > DNS_TXT_DATA_MAX) { a->skipped++; return; }
    memcpy(x->data + n, r + pos, l);
    n += l;
    pos += l;
  }
  x->data[n] = 0;
  x->len = (uint16_t)n;
  a->ntxt++;
}

int dns_answer(const unsigned char *p, size_t len, const unsigned char *q, size_t qlen, struct dns_answer *a)
{
  size_t qend = 12, pos, an;
  uint16_t type;
  memset(a, 0, sizeof *a);
  if (len < 12 || qlen < 17 || memcmp(p, q, 2) || !(p[2] & 0x80) || (p[2] & 0x78) || p[4] || p[5] != 1) return -1;
  if (skipname(q, qlen, &qend) < 0 || qend + 4 > qlen) return -1;
  qend += 4;                                    /* the question: name, type, class */
  if (len < qend || !caseeq(p + 12, q + 12, qend - 12)) return -1;
  type = (uint16_t)(q[qend - 4] << 8 | q[qend - 3]);
  a->rcode = p[3] & 0x0f;
  a->ad = !!(p[3] & 0x20);
  a->tc = !!(p[2] & 0x02);
  an = (size_t)p[6] << 8 | p[7];
  pos = qend;
  for (size_t k = 0; k < an; k++) {
    size_t rl;
    uint16_t rt, rc;
    if (skipname(p, len, &pos) < 0 || pos + 10 > len) return a->tc ? 0 : -1;
    rt = (uint16_t)(p[pos] << 8 | p[pos + 1]);
    rc = (uint16_t)(p[pos + 2] << 8 | p[pos + 3]);
    rl = (size_t)p[pos + 8] << 8 | p[pos + 9];
    pos += 10;
    if (pos + rl > len) return a->tc ? 0 : -1;
    if (rt == type && rc == 1) {
      a->n++;
      if (type == DNS_T_TLSA) keep(p + pos, rl, a);
      if (type == DNS_T_TXT) keeptxt(p + pos, rl, a);
    }
    pos += rl;
  }
  return 0;
}

/* ---- I/O ---- */

static int waitms(int fd, short ev, const struct timespec *dl)
{
  struct timespec now;
  long ms;
  struct pollfd pf = { fd, ev, 0 };
  int r;
  clock_gettime(CLOCK_MONOTONIC, &now);
  ms = (long)(dl->tv_sec - now.tv_sec) * 1000 + (dl->tv_nsec - now.tv_nsec) / 1000000;
  if (ms <= 0) { errno = ETIMEDOUT; return -1; }
  do r = poll(&pf, 1, (int)ms); while (r < 0 && errno == EINTR);
  if (!r) errno = ETIMEDOUT;
  return r > 0 ? 0 : -1;
}

static int sock(const char server[16], int type, struct sockaddr_storage *ss, socklen_t *sl)
{
  static const unsigned char v4[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  memset(ss, 0, sizeof *ss);
  if (!memcmp(server, v4, 12)) {
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET; s4->sin_port = htons(53);
    memcpy(&s4->sin_addr, server + 12, 4);
    *sl = sizeof *s4;
  } else {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6; s6->sin6_port = htons(53);
    memcpy(&s6->sin6_addr, server, 16);
    *sl = sizeof *s6;
  }
  return socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static ssize_t udp(const char server[16], const unsigned char *q, size_t ql, unsigned char *buf, const struct timespec *dl)
{
  struct sockaddr_storage ss;
  socklen_t sl;
  int fd = sock(server, SOCK_DGRAM, &ss, &sl);
  ssize_t n = -1;
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&ss, sl) == 0 && send(fd, q, ql, 0) == (ssize_t)ql)
    while (waitms(fd, POLLIN, dl) == 0) {
      n = recv(fd, buf, ANSWER_MAX, 0);
      if (n >= 2 && !memcmp(buf, q, 2)) break;   /* another id: not ours, wait on */
      n = -1;
    }
  close(fd);
  return n;
}

static int full(int fd, unsigned char *b, size_t n, int wr, const struct timespec *dl)
{
  size_t done = 0;
  while (done < n) {
    ssize_t r = wr ? write(fd, b + done, n - done) : read(fd, b + done, n - done);
    if (r > 0) { done += (size_t)r; continue; }
    if (!r && !wr) { errno = ECONNRESET; return -1; }
    if (r < 0 && errno != EAGAIN && errno != EINTR) return -1;
    if (waitms(fd, wr ? POLLOUT : POLLIN, dl) < 0) return -1;
  }
  return 0;
}

static ssize_t tcp(const char server[16], const unsigned char *q, size_t ql, unsigned char *buf, const struct timespec *dl)
{
  struct sockaddr_storage ss;
  socklen_t sl;
  unsigned char hdr[2 + DNS_QUERY_MAX];
  int fd = sock(server, SOCK_STREAM, &ss, &sl), e = 0;
  socklen_t el = sizeof e;
  size_t n;
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) { close(fd); return -1; }
  if (waitms(fd, POLLOUT, dl) < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) { close(fd); return -1; }
  hdr[0] = (unsigned char)(ql >> 8); hdr[1] = (unsigned char)ql;
  memcpy(hdr + 2, q, ql);
  if (full(fd, hdr, ql + 2, 1, dl) < 0 || full(fd, hdr, 2, 0, dl) < 0) { close(fd); return -1; }
  n = (size_t)hdr[0] << 8 | hdr[1];
  if (full(fd, buf, n, 0, dl) < 0) { close(fd); return -1; }
  close(fd);
  return (ssize_t)n;
}

int dns_ask(const char server[16], const char *name, uint16_t type, unsigned long secs, struct dns_answer *a)
{
  static unsigned char buf[ANSWER_MAX];
  unsigned char q[DNS_QUERY_MAX];
  uint16_t id;
  size_t ql;
  ssize_t n;
  struct timespec dl;
  if (getrandom(&id, sizeof id, 0) != sizeof id) id = (uint16_t)(getpid() ^ time(0));
  ql = dns_query(q, sizeof q, name, type, id);
  if (!ql) { errno = EINVAL; return -1; }
  clock_gettime(CLOCK_MONOTONIC, &dl);
  dl.tv_sec += (time_t)secs;
  n = udp(server, q, ql, buf, &dl);
  if (n < 0 || dns_answer(buf, (size_t)n, q, ql, a) < 0) return -1;
  if (!a->tc) return 0;
  n = tcp(server, q, ql, buf, &dl);
  if (n < 0 || dns_answer(buf, (size_t)n, q, ql, a) < 0 || a->tc) return -1;
  return 0;
}
