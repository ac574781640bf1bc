/* tern-tlsd: the server side of TLS for one SMTP session, in a process of
   its own, on the UCSPI-TLS convention (common/ucspitls.h).
     tern-tlsd [-o] [-t handshake-secs] [-T idle-secs] [-d tlsdir]
   fd 0/1: the network; fd 3: the control socket; fd 4: the plaintext
   channel (both socketpairs with the application). See tern-tlsd.8.
   Links OpenSSL and libc only (no libowfat, no skalibs). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "common/ctl.h"
#include "common/home.h"
#include "common/tlspolicy.h"
#include "common/ucspitls.h"

#define FD_CTL 3
#define FD_DATA 4
#define BUFSIZE 16384
#define NAME_MAX_ 253         /* SNI host name, bytes */
#define PATH_MAX_ 4200

static const char *tlsdir;
static SSL_CTX *ctx_default;
static unsigned long hs_timeout = 60, idle_timeout = 3600;

static void say(const char *a, const char *b, const char *c)
{
  char buf[600];
  size_t n = 0;
  const char *v[4] = { "tern-tlsd: ", a, b, c };
  for (int i = 0; i < 4; i++) {
    size_t k = v[i] ? strlen(v[i]) : 0;
    if (k > sizeof buf - 2 - n) k = sizeof buf - 2 - n;
    memcpy(buf + n, v[i], k);
    n += k;
  }
  buf[n++] = '\n';
  (void)!write(2, buf, n);
}

static void die(int code, const char *a, const char *b)
{
  say("fatal: ", a, b);
  _exit(code);
}

/* tell the application the handshake failed, log it, exit 111 */
static void fail(const char *reason)
{
  struct ucspitls_info i;
  char buf[UCSPITLS_REPLY_MAX];
  memset(&i, 0, sizeof i);
  strncpy(i.reason, reason, UCSPITLS_FIELD_MAX);
  (void)!write(FD_CTL, buf, ucspitls_format(buf, &i));
  say("TLS failed: ", reason, 0);
  _exit(111);
}

static void path(char *buf, const char *name, const char *ext)
{
  size_t a = strlen(tlsdir), b = strlen(name), c = strlen(ext);
  if (a + b + c + 2 > PATH_MAX_) die(100, "path too long: ", tlsdir);
  memcpy(buf, tlsdir, a);
  buf[a] = '/';
  memcpy(buf + a + 1, name, b);
  memcpy(buf + a + 1 + b, ext, c + 1);
}

/* a context for the certificate NAME.crt / NAME.key in tlsdir; 0 if none */
static SSL_CTX *load(const char *name, int minversion)
{
  char crt[PATH_MAX_], key[PATH_MAX_], err[200];
  SSL_CTX *c;
  path(crt, name, ".crt");
  path(key, name, ".key");
  if (access(crt, R_OK) < 0) return 0;
  c = tlspolicy_server_ctx(minversion);
  if (!c || tlspolicy_load(c, crt, key) < 0) {
    say("warning: unable to load ", crt, tlspolicy_error(err, sizeof err, ": bad certificate or key"));
    if (c) SSL_CTX_free(c);
    return 0;
  }
  return c;
}

/* SNI (RFC 6066 section 3): NAME.crt when it exists, else default. The
   name is lowercased and must be a host name ([a-z0-9.-], no "..", no
   leading '.'), so it can never name a file outside tlsdir. */
static int on_sni(SSL *s, int *al, void *arg)
{
  const char *n = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
  char low[NAME_MAX_ + 1];
  size_t k, len;
  SSL_CTX *c;
  (void)al; (void)arg;
  if (!n) return SSL_TLSEXT_ERR_OK;
  len = strlen(n);
  if (!len || len > NAME_MAX_ || n[0] == '.' || strstr(n, "..")) return SSL_TLSEXT_ERR_OK;
  for (k = 0; k < len; k++) {
    char ch = n[k];
    if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) return SSL_TLSEXT_ERR_OK;
    low[k] = ch;
  }
  low[len] = 0;
  if (!strcmp(low, "default")) return SSL_TLSEXT_ERR_OK;
  c = load(low, SSL_CTX_get_min_proto_version(ctx_default));
  if (c) SSL_set_SSL_CTX(s, c);   /* s holds a reference now */
  if (c) SSL_CTX_free(c);
  return SSL_TLSEXT_ERR_OK;
}

/* wait for fd to be ready for ev until deadline (0: idle_timeout from now) */
static int wait1(int fd, short ev, time_t deadline)
{
  struct pollfd p = { fd, ev, 0 };
  time_t now = time(0);
  int r;
  if (now >= deadline) return 0;
  do r = poll(&p, 1, (int)(deadline - now) * 1000); while (r < 0 && errno == EINTR);
  return r;
}

/* the first byte from the application: 'Y' starts TLS; EOF ends quietly */
static void wait_start(void)
{
  char c;
  ssize_t r;
  if (wait1(FD_CTL, POLLIN, time(0) + (time_t)idle_timeout) <= 0) _exit(0);
  do r = read(FD_CTL, &c, 1); while (r < 0 && errno == EINTR);
  if (r <= 0) _exit(0);
  if (c != UCSPITLS_START && c != 'y') die(100, "unknown control command from the application", 0);
}

static void handshake(SSL *s)
{
  time_t deadline = time(0) + (time_t)hs_timeout;
  char err[200];
  for (;;) {
    int r = SSL_accept(s), e;
    if (r == 1) return;
    e = SSL_get_error(s, r);
    if (e == SSL_ERROR_WANT_READ) { if (wait1(0, POLLIN, deadline) <= 0) fail("handshake timed out"); }
    else if (e == SSL_ERROR_WANT_WRITE) { if (wait1(1, POLLOUT, deadline) <= 0) fail("handshake timed out"); }
    else fail(tlspolicy_error(err, sizeof err, "handshake failed"));
  }
}

static void report(SSL *s)
{
  struct ucspitls_info i;
  char buf[UCSPITLS_REPLY_MAX];
  const char *sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
  int bits = SSL_get_cipher_bits(s, 0);
  memset(&i, 0, sizeof i);
  i.ok = 1;
  strncpy(i.protocol, SSL_get_version(s), UCSPITLS_FIELD_MAX);
  strncpy(i.cipher, SSL_get_cipher_name(s), UCSPITLS_FIELD_MAX);
  i.bits = bits > 0 ? (unsigned)bits : 0;
  strncpy(i.servername, sni ? sni : "-", UCSPITLS_FIELD_MAX);
  if (write(FD_CTL, buf, ucspitls_format(buf, &i)) < 0) _exit(0);
}

struct buf { char b[BUFSIZE]; size_t off, len; };

/* One turn of the relay: move what can move without blocking. Sets the
   poll events wanted on the network (*net) and on the channel (*app).
   Returns 1 when the session is over. */
static int relay_turn(SSL *s, struct buf *in, struct buf *out, int *net_eof, int *app_eof, short *net, short *app)
{
  int moved;
  *net = *app = 0;
  do {
    moved = 0;
    if (!in->len && !*net_eof) {              /* network -> in */
      int r = SSL_read(s, in->b, BUFSIZE);
      if (r > 0) { in->off = 0; in->len = (size_t)r; moved = 1; }
      else switch (SSL_get_error(s, r)) {
        case SSL_ERROR_WANT_READ: *net |= POLLIN; break;
        case SSL_ERROR_WANT_WRITE: *net |= POLLOUT; break;
        default: *net_eof = 1; shutdown(FD_DATA, SHUT_WR); moved = 1;
      }
    }
    if (in->len) {                              /* in -> application */
      ssize_t w = write(FD_DATA, in->b + in->off, in->len);
      if (w > 0) { in->off += (size_t)w; in->len -= (size_t)w; moved = 1; }
      else if (w < 0 && (errno == EAGAIN || errno == EINTR)) *app |= POLLOUT;
      else return 1;                            /* the application is gone */
    }
    if (!out->len && !*app_eof) {              /* application -> out */
      ssize_t r = read(FD_DATA, out->b, BUFSIZE);
      if (r > 0) { out->off = 0; out->len = (size_t)r; moved = 1; }
      else if (r < 0 && (errno == EAGAIN || errno == EINTR)) *app |= POLLIN;
      else *app_eof = 1;
    }
    if (out->len) {                             /* out -> network */
      int w = SSL_write(s, out->b + out->off, (int)out->len);
      if (w > 0) { out->off += (size_t)w; out->len -= (size_t)w; moved = 1; }
      else switch (SSL_get_error(s, w)) {
        case SSL_ERROR_WANT_READ: *net |= POLLIN; break;
        case SSL_ERROR_WANT_WRITE: *net |= POLLOUT; break;
        default: return 1;                      /* the client is gone */
      }
    }
    if (*app_eof && !out->len) {
      SSL_shutdown(s);                          /* close_notify, best effort */
      return 1;
    }
  } while (moved);
  return 0;
}

static void relay(SSL *s)
{
  static struct buf in, out;
  int net_eof = 0, app_eof = 0;
  for (;;) {
    short net, app;
    struct pollfd p[3];
    int n = 0, r;
    if (relay_turn(s, &in, &out, &net_eof, &app_eof, &net, &app)) return;
    if (net & POLLIN) { p[n].fd = 0; p[n].events = POLLIN; n++; }
    if (net & POLLOUT) { p[n].fd = 1; p[n].events = POLLOUT; n++; }
    if (app) { p[n].fd = FD_DATA; p[n].events = app; n++; }
    if (!n) return;
    do r = poll(p, (nfds_t)n, (int)(idle_timeout > 86400 ? 86400 : idle_timeout) * 1000); while (r < 0 && errno == EINTR);
    if (r <= 0) { say("idle timeout", 0, 0); return; }
  }
}

static unsigned long number(const char *s)
{
  char *e;
  unsigned long v = strtoul(s, &e, 10);
  if (!*s || *e || !v || v > 86400) die(100, "bad number: ", s);
  return v;
}

int main(int argc, char **argv)
{
  static char dir[PATH_MAX_];
  int opt, mx = 0, minversion = 0;
  SSL *s;
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);   /* the key is in this memory */
  signal(SIGPIPE, SIG_IGN);
  while ((opt = getopt(argc, argv, "ot:T:d:")) != -1) {
    switch (opt) {
      case 'o': mx = 1; break;
      case 't': hs_timeout = number(optarg); break;
      case 'T': idle_timeout = number(optarg); break;
      case 'd': tlsdir = optarg; break;
      default: die(100, "usage: tern-tlsd [-o] [-t handshake-secs] [-T idle-secs] [-d tlsdir]", 0);
    }
  }
  if (!tlsdir) {
    const char *h = home_get();
    if (strlen(h) + 5 > sizeof dir) die(100, "home too long", 0);
    strcpy(dir, h);
    strcat(dir, "/tls");
    tlsdir = dir;
  }
  if (mx) {
    /* opportunistic TLS on the MX port: control/tlsminprotocol may lower the floor */
    char v[32], cf[PATH_MAX_];
    size_t vl;
    int r;
    if (strlen(home_get()) + 30 > sizeof cf) die(100, "home too long", 0);
    strcpy(cf, home_get());
    strcat(cf, "/control/tlsminprotocol");
    r = ctl_readline(cf, v, sizeof v, &vl);
    if (r < 0) die(111, "unable to read ", cf);
    if (r > 0) {
      minversion = tlspolicy_version(v);
      if (!minversion) die(100, "control/tlsminprotocol: not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3: ", v);
    }
  }
  if (fcntl(FD_CTL, F_GETFD) < 0 || fcntl(FD_DATA, F_GETFD) < 0) die(100, "fd 3 and 4 must be open (see tern-tlsd.8)", 0);
  ctx_default = load("default", minversion);
  if (!ctx_default) die(111, "no usable certificate: ", tlsdir);
  SSL_CTX_set_tlsext_servername_callback(ctx_default, on_sni);
  wait_start();
  if (fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) < 0
      || fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK) < 0
      || fcntl(FD_DATA, F_SETFL, fcntl(FD_DATA, F_GETFL) | O_NONBLOCK) < 0) die(111, "unable to set O_NONBLOCK", 0);
  s = SSL_new(ctx_default);
  if (!s || !SSL_set_rfd(s, 0) || !SSL_set_wfd(s, 1)) fail("out of memory");
  handshake(s);
  report(s);
  relay(s);
  return 0;
}
