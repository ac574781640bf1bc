/* tern-tlsd: the server side of TLS for one SMTP session, in a process of
   its own, on the UCSPI-TLS convention (common/ucspitls.h).
     tern-tlsd [-o] [-t handshake-secs] [-T idle-secs] [-d tlsdir]
   fd 0/1: the network; fd 3: the control socket; fd 4: the plaintext
   channel (both socketpairs with the application). See tern-tlsd.8.
   Links OpenSSL and libc only (no libowfat, no skalibs). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include "common/ctl.h"
#include "common/home.h"
#include "common/say.h"
#include "common/tlspolicy.h"
#include "common/ucspitls.h"

#define FD_CTL 3
#define FD_DATA 4
#define NAME_MAX_ 253         /* SNI host name, bytes */
#define PATH_MAX_ 4200

static const char *tlsdir;
static SSL_CTX *ctx_default;
static unsigned long hs_timeout = 60, idle_timeout = 3600;

/* session tickets (RFC 5077, RFC 8446 4.6.1) under keys that every
   tern-tlsd shares: tlsdir/ticketkey holds 1 to TICKET_KEYS records of
   TICKET_REC bytes, each a 16-byte key name, a 32-byte AES-256-CBC key
   and a 32-byte HMAC-SHA256 key. The first record seals new tickets;
   every record opens them, so a key rotated to second place still
   resumes the sessions it sealed. */
#define TICKET_NAME 16
#define TICKET_AES 32
#define TICKET_HMAC 32
#define TICKET_REC (TICKET_NAME + TICKET_AES + TICKET_HMAC)
#define TICKET_KEYS 4
#define TICKET_LIFETIME 7200   /* seconds a ticket may resume a session */
static unsigned char ticketkeys[TICKET_KEYS * TICKET_REC];
static int nticketkeys;

static void die(int code, const char *a, const char *b)
{
  say3("tern-tlsd", "fatal: ", a, b);
  _exit(code);
}

/* tell the application the handshake failed, log it, exit 111 */
static void fail(const char *reason)
{
  tlspolicy_reply_err(FD_CTL, reason);
  say3("tern-tlsd", "TLS failed: ", reason, 0);
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

/* OpenSSL's ticket key callback: enc 1 seals a new ticket under the first
   key; enc 0 opens one: 1 (resume), 2 (resume, and send a ticket under
   the current key), 0 (unknown key name: a full handshake), -1 error */
static int on_ticket(SSL *s, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *ectx,
                     EVP_MAC_CTX *hctx, int enc)
{
  const unsigned char *k = ticketkeys;
  OSSL_PARAM params[3];
  int i;
  (void)s;
  if (enc) {
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) <= 0) return -1;
    memcpy(name, k, TICKET_NAME);
    i = 0;
  } else {
    for (i = 0; i < nticketkeys; i++)
      if (!memcmp(name, ticketkeys + i * TICKET_REC, TICKET_NAME)) break;
    if (i == nticketkeys) return 0;
    k = ticketkeys + i * TICKET_REC;
  }
  params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)(k + TICKET_NAME + TICKET_AES), TICKET_HMAC);
  params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
  params[2] = OSSL_PARAM_construct_end();
  if (!EVP_MAC_CTX_set_params(hctx, params)) return -1;
  if (enc) return EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), 0, k + TICKET_NAME, iv) ? 1 : -1;
  if (!EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), 0, k + TICKET_NAME, iv)) return -1;
  return i ? 2 : 1;
}

/* read tlsdir/ticketkey into ticketkeys; without a usable file no tickets */
static void load_ticketkeys(void)
{
  char f[PATH_MAX_];
  unsigned char extra;
  ssize_t r;
  int fd;
  path(f, "ticketkey", "");
  fd = open(f, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) say3("tern-tlsd", "warning: no session tickets: unable to open ", f, 0);
    return;
  }
  r = read(fd, ticketkeys, sizeof ticketkeys);
  if (r > 0 && (size_t)r == sizeof ticketkeys && read(fd, &extra, 1) != 0) r = -1;
  close(fd);
  if (r <= 0 || r % TICKET_REC) {
    say3("tern-tlsd", "warning: no session tickets: not 1 to 4 records of 80 bytes: ", f, 0);
    OPENSSL_cleanse(ticketkeys, sizeof ticketkeys);
    return;
  }
  nticketkeys = (int)(r / TICKET_REC);
}

/* resumption for ctx: tickets under the shared keys, or none at all (a
   ticket or a cache entry of this process alone could never be used:
   each connection has a tern-tlsd of its own) */
static void tickets(SSL_CTX *c)
{
  static const unsigned char sid[] = "tern-tlsd";
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_session_id_context(c, sid, sizeof sid - 1);
  if (!nticketkeys) {
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(c, 0);
    return;
  }
  SSL_CTX_set_timeout(c, TICKET_LIFETIME);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(c, on_ticket);
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
    char why[220];
    snprintf(why, sizeof why, ": %s", tlspolicy_error(err, sizeof err, "bad certificate or key"));
    say3("tern-tlsd", "warning: unable to load ", crt, why);
    if (c) SSL_CTX_free(c);
    return 0;
  }
  tickets(c);
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

/* the "OK" reply on the control socket */
static void report(SSL *s)
{
  struct ucspitls_info i;
  char buf[UCSPITLS_REPLY_MAX];
  tlspolicy_info(s, SSL_get_servername(s, TLSEXT_NAMETYPE_host_name), &i);
  if (write(FD_CTL, buf, ucspitls_format(buf, &i)) < 0) _exit(0);
}

static unsigned long number(const char *s)
{
  unsigned long v = tlspolicy_seconds(s);
  if (!v) die(100, "bad number of seconds (1..86400): ", s);
  return v;
}

int main(int argc, char **argv)
{
  static char dir[PATH_MAX_];
  char err[200];
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
  load_ticketkeys();
  ctx_default = load("default", minversion);
  if (ctx_default) SSL_CTX_set_tlsext_servername_callback(ctx_default, on_sni);
  switch (tlspolicy_wait_start(FD_CTL, idle_timeout)) {
    case 1: _exit(0);
    case -1: die(100, "unknown control command from the application", 0);
  }
  if (!ctx_default) {
    /* the application answers its client 454, not 220 (ucspitls.h) */
    tlspolicy_reply_err(FD_CTL, "no usable certificate");
    die(111, "no usable certificate: ", tlsdir);
  }
  {
    char r = UCSPITLS_READY;
    if (write(FD_CTL, &r, 1) != 1) _exit(0);
  }
  if (tlspolicy_nonblock(0, 1, FD_DATA) < 0) die(111, "unable to set O_NONBLOCK", 0);
  s = SSL_new(ctx_default);
  if (!s || !SSL_set_rfd(s, 0) || !SSL_set_wfd(s, 1)) fail("out of memory");
  SSL_set_accept_state(s);
  if (tlspolicy_handshake(s, 0, 1, hs_timeout, err, sizeof err) < 0) fail(err);
  report(s);
  if (tlspolicy_relay(s, 0, 1, FD_DATA, idle_timeout) < 0) say3("tern-tlsd", "idle timeout", 0, 0);
  return 0;
}
