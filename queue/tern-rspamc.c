/* tern-rspamc: a qmail-queue filter that asks rspamd (POST /checkv2, its
   HTTP protocol) about each message and applies the verdict; see
   queue/tern-rspamc.8. Libc and common/ only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "common/ctl.h"
#include "common/envelope.h"
#include "common/home.h"
#include "common/qclient.h"
#include "common/qqcode.h"
#include "queue/rspamc.h"

#define TIMEOUT_DEFAULT 30   /* seconds for each step of the talk with rspamd */
#define NEXT_TIMEOUT 3600    /* seconds for the next stage, open to exit */
#define IOBUF 65536

static int spool = -1;       /* the message, in an unlinked temporary file */
static off_t msglen;
static char *env;            /* the envelope, with its final NUL */
static size_t envlen;
static struct rspamc_verdict v;

static void say(const char *a, const char *b)
{
  char line[600];
  int n = snprintf(line, sizeof line, "tern-rspamc: %s%s\n", a, b ? b : "");
  if (n > 0 && write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0) { /* nobody to tell */ }
}

/* refuse with text on fd 6 ('D' permanent, 'Z' temporary): exit 82 */
static void refuse(char kind, const char *text)
{
  char b[RSPAMC_MSG_MAX + 64];
  int n = snprintf(b, sizeof b, "%c%s", kind, text);
  if (n > 0 && write(6, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1) < 0) { /* the exit code still says it */ }
  _exit(QQ_CUSTOM);
}

static int writeall(int fd, const char *s, size_t n)
{
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

/* fd 0 into an unlinked file in $TMPDIR or /tmp */
static void spool_message(void)
{
  const char *d = getenv("TMPDIR");
  char fn[4096], buf[IOBUF];
  if (!d || *d != '/') d = "/tmp";
  if (snprintf(fn, sizeof fn, "%s/tern-rspamc.XXXXXX", d) >= (int)sizeof fn) _exit(QQ_WRITE);
  spool = mkstemp(fn);
  if (spool < 0) { say("cannot make a temporary file: ", strerror(errno)); _exit(QQ_WRITE); }
  unlink(fn);
  fcntl(spool, F_SETFD, FD_CLOEXEC);
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) _exit(QQ_READ);
    if (r == 0) break;
    if (writeall(spool, buf, (size_t)r) < 0) { say("cannot write the temporary file: ", strerror(errno)); _exit(QQ_WRITE); }
    msglen += r;
  }
}

/* ---- the talk with rspamd ---- */

struct req { char *s; size_t n, cap; };

static int cat(struct req *r, const char *s, size_t n)
{
  if (r->n + n > r->cap) {
    size_t c = (r->n + n) * 2 + 256;
    char *x = realloc(r->s, c);
    if (!x) return -1;
    r->s = x;
    r->cap = c;
  }
  memcpy(r->s + r->n, s, n);
  r->n += n;
  return 0;
}

/* "Name: value\r\n", bytes below 0x20 and 0x7f in value as '?' */
static int hdr(struct req *r, const char *name, const char *val, size_t vl)
{
  size_t start;
  if (cat(r, name, strlen(name)) < 0 || cat(r, ": ", 2) < 0) return -1;
  start = r->n;
  if (cat(r, val, vl) < 0) return -1;
  for (size_t i = start; i < r->n; i++)
    if ((unsigned char)r->s[i] < 0x20 || r->s[i] == 0x7f) r->s[i] = '?';
  return cat(r, "\r\n", 2);
}

/* the request line and headers: envelope, client, HELO, user */
static int request(struct req *r)
{
  const char *x, *val;
  char type, num[32];
  size_t pos = 0, vl;
  int k;
  static const char line[] = "POST /checkv2 HTTP/1.0\r\nConnection: close\r\n";
  if (cat(r, line, sizeof line - 1) < 0) return -1;
  k = snprintf(num, sizeof num, "%lld", (long long)msglen);
  if (hdr(r, "Content-Length", num, (size_t)k) < 0) return -1;
  while (envelope_next(env, envlen, &pos, &type, &val, &vl) == 1) {
    if (cat(r, type == 'F' ? "From: <" : "Rcpt: <", 7) < 0 || cat(r, val, vl) < 0 || cat(r, ">\r\n", 3) < 0) return -1;
    for (size_t i = r->n - vl - 3; i < r->n - 3; i++)
      if ((unsigned char)r->s[i] < 0x20 || r->s[i] == 0x7f) r->s[i] = '?';
  }
  if ((x = getenv("TCPREMOTEIP")) && *x && hdr(r, "IP", x, strlen(x)) < 0) return -1;
  if ((x = getenv("TCPREMOTEHOST")) && *x && hdr(r, "Hostname", x, strlen(x)) < 0) return -1;
  if ((x = getenv("TERN_HELO")) && *x && hdr(r, "Helo", x, strlen(x)) < 0) return -1;
  if ((x = getenv("TERN_AUTHUSER")) && *x && hdr(r, "User", x, strlen(x)) < 0) return -1;
  if ((x = getenv("TERN_TRANSID")) && *x && hdr(r, "Queue-Id", x, strlen(x)) < 0) return -1;
  return cat(r, "\r\n", 2);
}

/* control/rspamd: IPv4:PORT, [IPv6]:PORT or /path (a Unix socket) */
static int rspamd_connect(const char *a, unsigned long timeout, const char **why)
{
  struct sockaddr_storage ss;
  socklen_t sl;
  struct timeval tv;
  const char *colon;
  char ip[64];
  unsigned long port;
  int fd;
  memset(&ss, 0, sizeof ss);
  if (*a == '/') {
    struct sockaddr_un *u = (struct sockaddr_un *)&ss;
    if (strlen(a) >= sizeof u->sun_path) { *why = "socket path too long"; return -1; }
    u->sun_family = AF_UNIX;
    strcpy(u->sun_path, a);
    sl = sizeof *u;
  } else {
    size_t n;
    char *end;
    colon = strrchr(a, ':');
    if (!colon) { *why = "control/rspamd: no port"; return -1; }
    n = (size_t)(colon - a);
    if (*a == '[' && n > 2 && a[n - 1] == ']') { a++; n -= 2; }
    if (n >= sizeof ip) { *why = "control/rspamd: bad address"; return -1; }
    memcpy(ip, a, n);
    ip[n] = 0;
    port = strtoul(colon + 1, &end, 10);
    if (*end || !colon[1] || port < 1 || port > 65535) { *why = "control/rspamd: bad port"; return -1; }
    if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
      ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
      ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
      sl = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
      ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
      ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
      sl = sizeof(struct sockaddr_in6);
    } else { *why = "control/rspamd: not an IP address"; return -1; }
  }
  fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { *why = strerror(errno); return -1; }
  tv.tv_sec = (time_t)timeout;
  tv.tv_usec = 0;
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  /* connect too (Linux) */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&ss, sl) < 0) { *why = strerror(errno); close(fd); return -1; }
  return fd;
}

/* the spooled message from offset 0 to fd (a socket or qclient) */
static int send_message(int fd, struct qclient *q)
{
  char buf[IOBUF];
  off_t off = 0;
  while (off < msglen) {
    ssize_t r = pread(spool, buf, sizeof buf, off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    if (q ? qclient_write(q, buf, (size_t)r) < 0 : writeall(fd, buf, (size_t)r) < 0) return -1;
    off += r;
  }
  return 0;
}

/* ask rspamd; 0 with v filled, or -1 and *why */
static int ask(const char *addr, unsigned long timeout, const char **why)
{
  struct req r = { 0, 0, 0 };
  static char reply[RSPAMC_REPLY_MAX + 1];
  size_t n = 0;
  int fd = rspamd_connect(addr, timeout, why);
  if (fd < 0) return -1;
  if (request(&r) < 0) { *why = "out of memory"; close(fd); return -1; }
  if (writeall(fd, r.s, r.n) < 0 || send_message(fd, 0) < 0) { *why = errno == EAGAIN ? "timed out" : "cannot send"; free(r.s); close(fd); return -1; }
  free(r.s);
  for (;;) {
    ssize_t k = read(fd, reply + n, sizeof reply - n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) { *why = errno == EAGAIN ? "timed out" : strerror(errno); close(fd); return -1; }
    if (k == 0) break;
    n += (size_t)k;
    if (n == sizeof reply) { *why = "answer too long"; close(fd); return -1; }
  }
  close(fd);
  if (rspamc_reply(reply, n, &v) < 0) { *why = "not a 200 answer with a JSON object"; return -1; }
  return 0;
}

/* ---- the next stage ---- */

static void pass_on(const char *top, size_t toplen)
{
  struct qclient q;
  int code;
  if (qclient_open(&q, getenv("QMAILQUEUE_NEXT"), QCLIENT_WANTID, NEXT_TIMEOUT) < 0) _exit(QQ_NOMEM);
  if (toplen) qclient_write(&q, top, toplen);
  if (send_message(-1, &q) < 0 && !q.werr) { qclient_abort(&q); _exit(QQ_READ); }
  code = qclient_close(&q, env, envlen);
  qclient_relay(&q, code);
  _exit(code);
}

int main(void)
{
  char addr[CTL_LINE_MAX], down[CTL_LINE_MAX], fn[4096], msg[RSPAMC_MSG_MAX + 64];
  const char *h = home_get(), *why = 0;
  unsigned long timeout;
  size_t len;
  int code;
  signal(SIGPIPE, SIG_IGN);
  spool_message();
  if ((code = envelope_readfd(1, &env, &envlen))) _exit(code);
  snprintf(fn, sizeof fn, "%s/control/rspamd", h);
  if (ctl_readline(fn, addr, sizeof addr, &len) < 0) _exit(QQ_CONFIG);
  if (!addr[0]) strcpy(addr, "127.0.0.1:11333");
  snprintf(fn, sizeof fn, "%s/control/rspamddown", h);
  if (ctl_readline(fn, down, sizeof down, &len) < 0) _exit(QQ_CONFIG);
  snprintf(fn, sizeof fn, "%s/control/timeoutrspamd", h);
  if (ctl_readulong(fn, &timeout, TIMEOUT_DEFAULT) < 0 || !timeout) timeout = TIMEOUT_DEFAULT;

  if (ask(addr, timeout, &why) < 0) {
    if (!strcmp(down, "tempfail")) refuse('Z', "4.7.0 cannot check the message now, try again later");
    say("rspamd unavailable, message accepted unchecked: ", why);
    pass_on(0, 0);
  }
  switch (v.action) {
    case RSPAMC_REJECT:
      snprintf(msg, sizeof msg, "5.7.1 %s", v.message[0] ? v.message : "message refused as spam");
      refuse('D', msg);
      break;
    case RSPAMC_SOFTREJECT:
    case RSPAMC_GREYLIST:
      snprintf(msg, sizeof msg, "4.7.1 %s", v.message[0] ? v.message : v.action == RSPAMC_GREYLIST ? "greylisted, try again later" : "try again later");
      refuse('Z', msg);
      break;
    case RSPAMC_ADDHEADER:
    case RSPAMC_REWRITESUBJECT:
      if (!v.xspam && v.hdrslen + 13 <= sizeof v.hdrs) {
        memcpy(v.hdrs + v.hdrslen, "X-Spam: Yes\n", 12);
        v.hdrslen += 12;
      }
      break;
    default:
      break;
  }
  pass_on(v.hdrs, v.hdrslen);
  return QQ_BUG;
}
