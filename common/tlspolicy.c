/* common/tlspolicy.c: tern's TLS policy (tlspolicy.h). OpenSSL 3. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "common/tlspolicy.h"
#include "common/ucspitls.h"

int tlspolicy_version(const char *name)
{
  if (!strcmp(name, "TLSv1")) return TLS1_VERSION;
  if (!strcmp(name, "TLSv1.1")) return TLS1_1_VERSION;
  if (!strcmp(name, "TLSv1.2")) return TLS1_2_VERSION;
  if (!strcmp(name, "TLSv1.3")) return TLS1_3_VERSION;
  return 0;
}

SSL_CTX *tlspolicy_server_ctx(int minversion)
{
  SSL_CTX *c = SSL_CTX_new(TLS_server_method());
  if (!c) return 0;
  if (!SSL_CTX_set_min_proto_version(c, minversion ? minversion : TLS1_2_VERSION)
      || !SSL_CTX_set_cipher_list(c, TLSPOLICY_CIPHERS12)
      || !SSL_CTX_set_dh_auto(c, 1)) {
    SSL_CTX_free(c);
    return 0;
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return c;
}

int tlspolicy_load(SSL_CTX *ctx, const char *certfile, const char *keyfile)
{
  if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) return -1;
  if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1) return -1;
  if (SSL_CTX_check_private_key(ctx) != 1) return -1;
  return 0;
}

const char *tlspolicy_error(char *buf, size_t n, const char *fallback)
{
  unsigned long e = ERR_get_error();
  unsigned long last = e;
  while ((e = ERR_get_error())) last = e;
  if (!last) {
    strncpy(buf, fallback, n - 1);
    buf[n - 1] = 0;
  } else ERR_error_string_n(last, buf, n);
  for (size_t k = 0; buf[k]; k++)
    if ((unsigned char)buf[k] < 0x20 || (unsigned char)buf[k] > 0x7e) buf[k] = '?';
  return buf;
}

/* ---- the client side ---- */

SSL_CTX *tlspolicy_client_ctx(int minversion, const char *cafile)
{
  SSL_CTX *c = SSL_CTX_new(TLS_client_method());
  if (!c) return 0;
  if (!SSL_CTX_set_min_proto_version(c, minversion ? minversion : TLS1_2_VERSION)
      || !SSL_CTX_set_cipher_list(c, TLSPOLICY_CIPHERS12)
      || (cafile && SSL_CTX_load_verify_locations(c, cafile, 0) != 1)) {
    SSL_CTX_free(c);
    return 0;
  }
  SSL_CTX_set_verify(c, SSL_VERIFY_NONE, 0);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return c;
}

int tlspolicy_client_names(SSL *s, const char *servername, const char *const *names, int n)
{
  if (servername && !SSL_set_tlsext_host_name(s, servername)) return -1;
  SSL_set_hostflags(s, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  for (int k = 0; k < n; k++)
    if (!(k ? SSL_add1_host(s, names[k]) : SSL_set1_host(s, names[k]))) return -1;
  return 0;
}

static void note_set(char *note, size_t n, const char *s)
{
  strncpy(note, s, n - 1);
  note[n - 1] = 0;
  for (size_t k = 0; note[k]; k++)
    if ((unsigned char)note[k] < 0x20 || (unsigned char)note[k] > 0x7e) note[k] = '?';
}

int tlspolicy_client_dane(SSL *s, const char *base)
{
  SSL_CTX *c = SSL_get_SSL_CTX(s);
  if (SSL_CTX_dane_enable(c) <= 0) return -1;
  return SSL_dane_enable(s, base) > 0 ? 0 : -1;
}

int tlspolicy_client_tlsa(SSL *s, unsigned usage, unsigned selector, unsigned mtype,
                          const unsigned char *data, size_t len)
{
  int r;
  if (usage > 255 || selector > 255 || mtype > 255) return 0;
  r = SSL_dane_tlsa_add(s, (uint8_t)usage, (uint8_t)selector, (uint8_t)mtype, data, len);
  return r > 0 ? 1 : r == 0 ? 0 : -1;
}

const char *tlspolicy_peer(SSL *s, int dane, char *note, size_t n)
{
  X509 *cert = SSL_get0_peer_certificate(s);
  long v;
  uint8_t usage;
  note[0] = 0;
  if (!cert) { note_set(note, n, "no certificate"); return "none"; }
  v = SSL_get_verify_result(s);
  if (dane && SSL_get0_dane_authority(s, 0, 0) >= 0 && v == X509_V_OK
      && SSL_get0_dane_tlsa(s, &usage, 0, 0, 0, 0) >= 0)
    return usage == 3 ? "DANE-EE" : "DANE-TA";
  if (v != X509_V_OK) { note_set(note, n, X509_verify_cert_error_string(v)); return "none"; }
  if (dane) { note_set(note, n, "no TLSA record matched"); return "none"; }
  if (!SSL_get0_peername(s)) { note_set(note, n, "no name to check"); return "none"; }
  return "CA";
}

struct rbuf { char b[16384]; size_t off, len; };
struct relay { SSL *s; int fd; struct rbuf in, out; int net_eof, app_eof; short net, app; };

/* one transfer network -> application; 1 if something moved */
static int relay_in(struct relay *r)
{
  int moved = 0;
  if (!r->in.len && !r->net_eof) {
    int n = SSL_read(r->s, r->in.b, sizeof r->in.b);
    if (n > 0) { r->in.off = 0; r->in.len = (size_t)n; moved = 1; }
    else switch (SSL_get_error(r->s, n)) {
      case SSL_ERROR_WANT_READ: r->net |= POLLIN; break;
      case SSL_ERROR_WANT_WRITE: r->net |= POLLOUT; break;
      default: r->net_eof = 1; shutdown(r->fd, SHUT_WR); moved = 1;
    }
  }
  if (r->in.len) {
    ssize_t w = write(r->fd, r->in.b + r->in.off, r->in.len);
    if (w > 0) { r->in.off += (size_t)w; r->in.len -= (size_t)w; moved = 1; }
    else if (w < 0 && (errno == EAGAIN || errno == EINTR)) r->app |= POLLOUT;
    else return -1;                             /* the application is gone */
  }
  return moved;
}

/* one transfer application -> network; 1 if something moved, -1 at the end */
static int relay_out(struct relay *r)
{
  int moved = 0;
  if (!r->out.len && !r->app_eof) {
    ssize_t n = read(r->fd, r->out.b, sizeof r->out.b);
    if (n > 0) { r->out.off = 0; r->out.len = (size_t)n; moved = 1; }
    else if (n < 0 && (errno == EAGAIN || errno == EINTR)) r->app |= POLLIN;
    else r->app_eof = 1;
  }
  if (r->out.len) {
    int w = SSL_write(r->s, r->out.b + r->out.off, (int)r->out.len);
    if (w > 0) { r->out.off += (size_t)w; r->out.len -= (size_t)w; moved = 1; }
    else switch (SSL_get_error(r->s, w)) {
      case SSL_ERROR_WANT_READ: r->net |= POLLIN; break;
      case SSL_ERROR_WANT_WRITE: r->net |= POLLOUT; break;
      default: return -1;                       /* the peer is gone */
    }
  }
  if (r->app_eof && !r->out.len) { SSL_shutdown(r->s); return -1; }
  return moved;
}

int tlspolicy_relay(SSL *s, int rfd, int wfd, int fd, unsigned long idle)
{
  static struct relay r;
  int secs = (int)(idle > 86400 ? 86400 : idle);
  memset(&r, 0, sizeof r);
  r.s = s;
  r.fd = fd;
  for (;;) {
    struct pollfd p[3];
    int n = 0, a, b;
    r.net = r.app = 0;
    for (;;) {                                  /* move what moves without blocking */
      if ((a = relay_in(&r)) < 0 || (b = relay_out(&r)) < 0) return 0;
      if (!a && !b) break;
    }
    if (r.net & POLLIN) { p[n].fd = rfd; p[n].events = POLLIN; n++; }
    if (r.net & POLLOUT) { p[n].fd = wfd; p[n].events = POLLOUT; n++; }
    if (r.app) { p[n].fd = fd; p[n].events = r.app; n++; }
    if (!n) return 0;
    do a = poll(p, (nfds_t)n, secs * 1000); while (a < 0 && errno == EINTR);
    if (a <= 0) return -1;
  }
}

/* ---- the steps both TLS programs take ---- */

int tlspolicy_wait(int fd, short ev, time_t deadline)
{
  struct pollfd p = { fd, ev, 0 };
  time_t now = time(0);
  int r;
  if (now >= deadline) return 0;
  do r = poll(&p, 1, (int)(deadline - now) * 1000); while (r < 0 && errno == EINTR);
  return r;
}

int tlspolicy_wait_start(int ctl, unsigned long idle)
{
  char c;
  ssize_t r;
  if (tlspolicy_wait(ctl, POLLIN, time(0) + (time_t)idle) <= 0) return 1;
  do r = read(ctl, &c, 1); while (r < 0 && errno == EINTR);
  if (r <= 0) return 1;
  return c == UCSPITLS_START || c == 'y' ? 0 : -1;
}

int tlspolicy_handshake(SSL *s, int rfd, int wfd, unsigned long secs, char *err, size_t n)
{
  time_t deadline = time(0) + (time_t)secs;
  for (;;) {
    int r = SSL_do_handshake(s), e;
    if (r == 1) return 0;
    e = SSL_get_error(s, r);
    if (e == SSL_ERROR_WANT_READ) r = tlspolicy_wait(rfd, POLLIN, deadline);
    else if (e == SSL_ERROR_WANT_WRITE) r = tlspolicy_wait(wfd, POLLOUT, deadline);
    else { tlspolicy_error(err, n, "handshake failed"); return -1; }
    if (r <= 0) { note_set(err, n, "handshake timed out"); return -1; }
  }
}

void tlspolicy_reply_err(int ctl, const char *reason)
{
  struct ucspitls_info i;
  char buf[UCSPITLS_REPLY_MAX];
  memset(&i, 0, sizeof i);
  strncpy(i.reason, reason, UCSPITLS_FIELD_MAX);
  (void)!write(ctl, buf, ucspitls_format(buf, &i));
}

int tlspolicy_nonblock(int rfd, int wfd, int fd)
{
  int v[3] = { rfd, wfd, fd };
  for (int k = 0; k < 3; k++) {
    int fl = fcntl(v[k], F_GETFL);
    if (fl < 0 || fcntl(v[k], F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  }
  return 0;
}

unsigned long tlspolicy_seconds(const char *s)
{
  char *e;
  unsigned long v;
  if (*s < '0' || *s > '9') return 0;
  v = strtoul(s, &e, 10);
  return *e || v > 86400 ? 0 : v;
}

void tlspolicy_info(SSL *s, const char *servername, struct ucspitls_info *i)
{
  int bits = SSL_get_cipher_bits(s, 0);
  memset(i, 0, sizeof *i);
  i->ok = 1;
  strncpy(i->protocol, SSL_get_version(s), UCSPITLS_FIELD_MAX);
  strncpy(i->cipher, SSL_get_cipher_name(s), UCSPITLS_FIELD_MAX);
  i->bits = bits > 0 ? (unsigned)bits : 0;
  strncpy(i->servername, servername ? servername : "-", UCSPITLS_FIELD_MAX);
}
