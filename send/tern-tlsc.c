/* tern-tlsc: the client side of TLS for one outgoing SMTP connection, in a
   process of its own, on the UCSPI-TLS convention (common/ucspitls.h).
     tern-tlsc [-t handshake-secs] [-T idle-secs] [-s servername]
               [-n name]... [-C cafile] [-d tlsa-base -a u:s:m:hex...]
   fd 0/1: the network; fd 3: the control socket; fd 4: the plaintext
   channel (both socketpairs with tern-remote). See tern-tlsc.8.
   Links OpenSSL and libc only (no libowfat, no skalibs). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include "common/say.h"
#include "common/tlspolicy.h"
#include "common/ucspitls.h"

#define FD_CTL 3
#define FD_DATA 4
#define NAMES_MAX 8
#define TLSA_MAX 16

static unsigned long hs_timeout = 60, idle_timeout = 1200;
static const char *tlsa[TLSA_MAX];   /* -a records */
static int ntlsa;

static void die(int code, const char *a, const char *b)
{
  say3("tern-tlsc", a, b, 0);
  _exit(code);
}

/* tell tern-remote the handshake failed; exit 111 */
static void fail(const char *reason)
{
  tlspolicy_reply_err(FD_CTL, reason);
  _exit(111);
}

static int hexval(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* -a usage:selector:mtype:hex into s; the count of usable records */
static int addtlsa(SSL *s)
{
  int usable = 0;
  for (int k = 0; k < ntlsa; k++) {
    static unsigned char data[1024];
    unsigned long f[3];
    const char *p = tlsa[k];
    char *e;
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
      f[i] = strtoul(p, &e, 10);
      if (e == p || *e != ':' || f[i] > 255) die(100, "bad -a record: ", tlsa[k]);
      p = e + 1;
    }
    for (; p[0] && p[1] && n < sizeof data; p += 2) {
      int h = hexval(p[0]), l = hexval(p[1]);
      if (h < 0 || l < 0) break;
      data[n++] = (unsigned char)(h << 4 | l);
    }
    if (*p || !n) die(100, "bad -a record: ", tlsa[k]);
    switch (tlspolicy_client_tlsa(s, (unsigned)f[0], (unsigned)f[1], (unsigned)f[2], data, n)) {
      case 1: usable++; break;
      case 0: break;
      default: fail("unable to add a TLSA record");
    }
  }
  return usable;
}

static void report(SSL *s, const char *servername, int dane)
{
  struct ucspitls_info i;
  char buf[UCSPITLS_REPLY_MAX];
  tlspolicy_info(s, servername, &i);
  strncpy(i.peer, tlspolicy_peer(s, dane, i.note, sizeof i.note), UCSPITLS_FIELD_MAX);
  if (write(FD_CTL, buf, ucspitls_format(buf, &i)) < 0) _exit(0);
}

static unsigned long number(const char *s)
{
  unsigned long v = tlspolicy_seconds(s);
  if (!v) die(100, "bad number of seconds: ", s);
  return v;
}

int main(int argc, char **argv)
{
  const char *servername = 0, *cafile = 0, *base = 0;
  const char *names[NAMES_MAX];
  int opt, nnames = 0, dane;
  SSL_CTX *ctx;
  SSL *s;
  char err[200];
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);   /* the session keys are in this memory */
  signal(SIGPIPE, SIG_IGN);
  while ((opt = getopt(argc, argv, "t:T:s:n:C:d:a:")) != -1) {
    switch (opt) {
      case 't': hs_timeout = number(optarg); break;
      case 'T': idle_timeout = number(optarg); break;
      case 's': servername = optarg; break;
      case 'n': if (nnames == NAMES_MAX) die(100, "too many -n names", 0); names[nnames++] = optarg; break;
      case 'C': cafile = optarg; break;
      case 'd': base = optarg; break;
      case 'a': if (ntlsa == TLSA_MAX) die(100, "too many -a records", 0); tlsa[ntlsa++] = optarg; break;
      default: die(100, "usage: tern-tlsc [-t handshake-secs] [-T idle-secs] [-s servername] [-n name]... [-C cafile] [-d tlsa-base -a u:s:m:hex...]", 0);
    }
  }
  if (ntlsa && !base) die(100, "-a needs -d", 0);
  if (fcntl(FD_CTL, F_GETFD) < 0 || fcntl(FD_DATA, F_GETFD) < 0) die(100, "fd 3 and 4 must be open (see tern-tlsc.8)", 0);
  switch (tlspolicy_wait_start(FD_CTL, idle_timeout)) {
    case 1: _exit(0);
    case -1: die(100, "unknown control command", 0);
  }
  if (tlspolicy_nonblock(0, 1, FD_DATA) < 0) fail("unable to set O_NONBLOCK");
  ctx = tlspolicy_client_ctx(0, cafile);
  if (!ctx) fail(tlspolicy_error(err, sizeof err, cafile ? "unable to load the CA file" : "out of memory"));
  s = SSL_new(ctx);
  if (!s || !SSL_set_rfd(s, 0) || !SSL_set_wfd(s, 1)) fail("out of memory");
  if (tlspolicy_client_names(s, servername, names, nnames) < 0) fail("bad server name");
  if (base && tlspolicy_client_dane(s, base) < 0) fail("unable to enable DANE");
  dane = base && addtlsa(s) > 0;   /* none usable: OpenSSL does no DANE; reported as not verified */
  SSL_set_connect_state(s);
  if (tlspolicy_handshake(s, 0, 1, hs_timeout, err, sizeof err) < 0) fail(err);
  report(s, servername, dane);
  if (tlspolicy_relay(s, 0, 1, FD_DATA, idle_timeout) < 0) die(0, "idle timeout", 0);
  return 0;
}
