/* tern-authdovecot: a checkpassword program that asks Dovecot's
   authentication socket, as Postfix's smtpd_sasl_type = dovecot does.
     tern-authdovecot [-0] [-s socket] [-t secs] [prog...]
   See tern-authdovecot.8. libc only. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "common/base64.h"
#include "common/checkpw.h"
#include "common/ctl.h"
#include "common/home.h"
#include "smtpd/dovecot.h"

#define DEFAULT_SOCKET "/run/dovecot/auth-client"

static time_t deadline;
static char rbuf[DOVECOT_LINE_MAX + 1];
static size_t rlen;

static void die(int code, const char *a, const char *b)
{
  char buf[600];
  int n = snprintf(buf, sizeof buf, "tern-authdovecot: %s%s\n", a, b ? b : "");
  if (n > 0) (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
  _exit(code);
}

static void writeall(int fd, const char *s, size_t n)
{
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die(111, "unable to write to the Dovecot socket", 0);
    s += w;
    n -= (size_t)w;
  }
}

/* the next line (without LF) from fd into *l, *n; dies on timeout, EOF or an over-long line */
static void getline_(int fd, const char **l, size_t *n)
{
  static size_t used;
  char *nl;
  if (used) {                               /* drop the line returned last time */
    memmove(rbuf, rbuf + used, rlen - used);
    rlen -= used;
    used = 0;
  }
  while (!(nl = memchr(rbuf, '\n', rlen))) {
    struct pollfd p = { fd, POLLIN, 0 };
    time_t now = time(0);
    ssize_t r;
    if (rlen >= DOVECOT_LINE_MAX) die(111, "over-long line from Dovecot", 0);
    if (now >= deadline || poll(&p, 1, (int)(deadline - now) * 1000) <= 0) die(111, "Dovecot did not answer in time", 0);
    r = read(fd, rbuf + rlen, DOVECOT_LINE_MAX - rlen);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die(111, "Dovecot closed the connection", 0);
    rlen += (size_t)r;
  }
  *l = rbuf;
  *n = (size_t)(nl - rbuf);
  used = *n + 1;
}

static const char *socket_path(char *buf, size_t max)
{
  char cf[4200];
  size_t l;
  if (strlen(home_get()) + 30 > sizeof cf) die(111, "home too long", 0);
  snprintf(cf, sizeof cf, "%s/control/authdovecot", home_get());
  switch (ctl_readline(cf, buf, max, &l)) {
    case 1: if (l) return buf; /* fall through */
    case 0: return DEFAULT_SOCKET;
    default: die(111, "unable to read ", cf);
  }
  return 0;
}

/* an environment value fit for a Dovecot field: printable, no TAB */
static const char *envfield(const char *name)
{
  const char *v = getenv(name);
  if (!v || !*v || strlen(v) > 64) return 0;
  for (const char *p = v; *p; p++) if (*p <= ' ' || *p > '~') return 0;
  return v;
}

static int ask(int fd, const char *user, const char *pass)
{
  static char msg[CHECKPW_REQ_MAX], b64[BASE64_ENCODED_LEN(CHECKPW_REQ_MAX) + 1], line[BASE64_ENCODED_LEN(CHECKPW_REQ_MAX) + 400];
  struct dovecot_hs hs = { 0, 0, 0 };
  size_t ul = strlen(user), pl = strlen(pass), n;
  const char *l, *rip = envfield("TCPREMOTEIP"), *lip = envfield("TCPLOCALIP");
  int r, len;
  len = snprintf(line, sizeof line, "VERSION\t1\t2\nCPID\t%ld\n", (long)getpid());
  writeall(fd, line, (size_t)len);
  do { getline_(fd, &l, &n); r = dovecot_handshake(&hs, l, n); } while (r == DV_MORE);
  if (r != DV_DONE) die(111, "Dovecot's handshake is not version 1 with PLAIN", 0);
  msg[0] = 0;                               /* PLAIN: empty authzid, authcid, password */
  memcpy(msg + 1, user, ul);
  msg[1 + ul] = 0;
  memcpy(msg + 2 + ul, pass, pl);
  base64_encode(msg, ul + pl + 2, b64);
  explicit_bzero(msg, sizeof msg);
  len = snprintf(line, sizeof line, "AUTH\t1\tPLAIN\tservice=smtp\tnologin%s%s%s%s\tresp=%s\n",
                 rip ? "\trip=" : "", rip ? rip : "", lip ? "\tlip=" : "", lip ? lip : "", b64);
  explicit_bzero(b64, sizeof b64);
  if (len < 0 || (size_t)len >= sizeof line) die(111, "request too long", 0);
  writeall(fd, line, (size_t)len);
  explicit_bzero(line, sizeof line);
  getline_(fd, &l, &n);
  return dovecot_reply(l, n, 1);
}

int main(int argc, char **argv)
{
  static char req[CHECKPW_REQ_MAX + 1], sockbuf[200];
  const char *sock = 0, *user, *pass;
  struct sockaddr_un sa;
  int opt, infd = 3, fd, r;
  unsigned long secs = 10;
  ssize_t n = 0;
  while ((opt = getopt(argc, argv, "+0s:t:")) != -1) {
    switch (opt) {
      case '0': infd = 0; break;
      case 's': sock = optarg; break;
      case 't': secs = strtoul(optarg, 0, 10); if (!secs || secs > 300) secs = 10; break;
      default: die(2, "usage: tern-authdovecot [-0] [-s socket] [-t secs] [prog...]", 0);
    }
  }
  for (;;) {
    ssize_t k = read(infd, req + n, sizeof req - (size_t)n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) die(2, "unable to read the request", 0);
    if (!k) break;
    n += k;
    if ((size_t)n >= sizeof req) die(2, "request too long", 0);
  }
  close(infd);
  if (checkpw_parse(req, (size_t)n, &user, &pass) < 0) die(2, "malformed checkpassword request", 0);
  if (!sock) sock = socket_path(sockbuf, sizeof sockbuf);
  if (strlen(sock) >= sizeof sa.sun_path) die(111, "socket path too long: ", sock);
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, sock);
  deadline = time(0) + (time_t)secs;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die(111, "unable to connect to ", sock);
  r = ask(fd, user, pass);
  explicit_bzero(req, sizeof req);
  if (r == DV_FAIL) _exit(CHECKPW_BAD);
  if (r != DV_OK) die(111, r == DV_TEMPFAIL ? "Dovecot: temporary failure" : "Dovecot: unexpected reply", 0);
  if (optind < argc) {
    execvp(argv[optind], argv + optind);
    die(111, "unable to run ", argv[optind]);
  }
  return CHECKPW_OK;
}
