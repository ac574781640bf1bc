/* tern-dkimkeyd: sign DKIM digests with keys only its user can read.
   Run per connection by s6-ipcserver on HOME/sock/dkim as ternk (the
   dkim service); the socket is fd 0 and fd 1. Reads up to DKIMKEYD_REQS
   request lines, one after the other, each

     ALG SP DOMAIN SP SELECTOR SP HEX LF      (at most DKIMKEYD_REQMAX bytes)

   ALG: rsa-sha256 or ed25519-sha256; DOMAIN and SELECTOR as dkim_name_ok
   takes them; HEX: the 32-byte SHA-256 digest of the header hash input,
   64 lowercase hex digits. Opens HOME/dkim/DOMAIN/SELECTOR.key, which must
   hold a key of ALG's type (RSA of at least 1024 bits, or Ed25519), and
   answers "+BASE64 LF" (the b= value: RSASSA-PKCS1-v1_5 over the digest
   with SHA-256's DigestInfo, or Ed25519 over the 32 digest bytes, RFC
   8463) or "-TEXT LF"; a refusal ends the connection. Exit 0 every
   request signed, 100 a bad request or no such key, 111 a temporary
   failure. See queue/tern-dkimsign.8. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include "common/base64.h"
#include "common/dkimcanon.h"
#include "common/home.h"

#define DKIMKEYD_REQMAX 600  /* request bytes, LF included */
#define SIGMAX 1024          /* signature bytes (RSA up to 8192 bits) */
#define DKIMKEYD_REQS 4      /* requests on one connection, at most */
#define TIMEOUT 10           /* seconds for the whole connection */

static char what[300];  /* "d=DOMAIN s=SELECTOR a=ALG" once parsed, for the log */

/* one log line on fd 2 (the service's log): who asked, what, the outcome */
static void logline(int code, const char *s)
{
  const char *uid = getenv("IPCREMOTEEUID");
  char l[512];
  int n = snprintf(l, sizeof l, "tern-dkimkeyd: uid %s: %s%s%s", uid ? uid : "?", code ? "refused: " : "signed ",
                   code ? s + 1 : what, code ? "" : "\n");
  if (n > 0 && write(2, l, (size_t)n < sizeof l ? (size_t)n : sizeof l - 1) < 0) { /* no log: the answer still goes */ }
}

/* all of s to fd 1 (the client); a failed write is the client's loss */
static void put(const char *s)
{
  size_t n = strlen(s);
  while (n) {
    ssize_t w = write(1, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    s += w;
    n -= (size_t)w;
  }
}

/* answer "-TEXT LF" (s), log it, end the connection with exit code */
static void refuse(int code, const char *s)
{
  char junk[4096];
  logline(code, s);
  put(s);
  /* what the client still sends (at most 64 KiB, within TIMEOUT) is read
     and dropped, so that closing with unread bytes does not reset the
     connection before the client has read the answer */
  shutdown(1, SHUT_WR);
  for (int i = 0; i < 16; i++) {
    ssize_t r = read(0, junk, sizeof junk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
  }
  _exit(code);
}

static char in[2 * DKIMKEYD_REQMAX];  /* bytes read and not yet used */
static size_t inlen;

/* the next request line into r (NUL instead of the LF): 1, or 0 at end of
   file between requests */
static int read_request(char *r)
{
  for (;;) {
    char *lf = memchr(in, '\n', inlen);
    ssize_t got;
    if (lf) {
      size_t l = (size_t)(lf - in);
      if (l + 1 > DKIMKEYD_REQMAX) refuse(100, "-request too long\n");
      memcpy(r, in, l);
      r[l] = 0;
      if (strlen(r) != l) refuse(100, "-NUL in the request\n");
      memmove(in, lf + 1, inlen - l - 1);
      inlen -= l + 1;
      return 1;
    }
    if (inlen >= DKIMKEYD_REQMAX) refuse(100, "-request too long\n");
    got = read(0, in + inlen, sizeof in - inlen);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) refuse(111, "-cannot read the request\n");
    if (got == 0) {
      if (!inlen) return 0;
      refuse(100, "-request without LF\n");
    }
    inlen += (size_t)got;
  }
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* split "ALG DOMAIN SELECTOR HEX" and check each part */
static void parse(char *r, int *ed, char **dom, char **sel, unsigned char dig[32])
{
  char *f[4], *p = r;
  for (int i = 0; i < 4; i++) {
    f[i] = p;
    p = strchr(p, ' ');
    if (i < 3) {
      if (!p) refuse(100, "-request needs four fields\n");
      *p++ = 0;
    } else if (p) refuse(100, "-request has more than four fields\n");
  }
  if (!strcmp(f[0], "rsa-sha256")) *ed = 0;
  else if (!strcmp(f[0], "ed25519-sha256")) *ed = 1;
  else refuse(100, "-unknown algorithm\n");
  if (!dkim_name_ok(f[1])) refuse(100, "-bad domain\n");
  if (!dkim_name_ok(f[2])) refuse(100, "-bad selector\n");
  if (strlen(f[3]) != 64) refuse(100, "-digest is not 32 bytes in hex\n");
  for (int i = 0; i < 32; i++) {
    int h = hexval(f[3][2 * i]), l = hexval(f[3][2 * i + 1]);
    if (h < 0 || l < 0) refuse(100, "-digest is not lowercase hex\n");
    dig[i] = (unsigned char)(h * 16 + l);
  }
  *dom = f[1];
  *sel = f[2];
  snprintf(what, sizeof what, "d=%s s=%s a=%s", f[1], f[2], f[0]);
}

static EVP_PKEY *load_key(const char *dom, const char *sel, int ed)
{
  char path[1024];
  const char *home = home_get();
  FILE *f;
  EVP_PKEY *k;
  if ((size_t)snprintf(path, sizeof path, "%s/dkim/%s/%s.key", home, dom, sel) >= sizeof path)
    refuse(100, "-key path too long\n");
  f = fopen(path, "r");
  if (!f && errno == ENOENT) refuse(100, "-no such key\n");
  if (!f) refuse(111, "-cannot open the key\n");
  k = PEM_read_PrivateKey(f, 0, 0, 0);
  fclose(f);
  if (!k) refuse(111, "-cannot parse the key\n");
  if (ed ? !EVP_PKEY_is_a(k, "ED25519") : !EVP_PKEY_is_a(k, "RSA"))
    refuse(100, "-the key is not of the algorithm asked for\n");
  if (!ed && EVP_PKEY_get_bits(k) < 1024) refuse(100, "-RSA key shorter than 1024 bits\n");
  return k;
}

/* the signature of dig into sig; its length, or 0 */
static size_t sign(EVP_PKEY *k, int ed, const unsigned char dig[32], unsigned char *sig)
{
  size_t n = SIGMAX;
  if (ed) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && EVP_DigestSignInit(m, 0, 0, 0, k) == 1 && EVP_DigestSign(m, sig, &n, dig, 32) == 1;
    EVP_MD_CTX_free(m);
    return ok ? n : 0;
  } else {
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, 0);
    int ok = c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1
             && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1
             && EVP_PKEY_sign(c, 0, &n, dig, 32) == 1 && n <= SIGMAX && EVP_PKEY_sign(c, sig, &n, dig, 32) == 1;
    EVP_PKEY_CTX_free(c);
    return ok ? n : 0;
  }
}

int main(void)
{
  char r[DKIMKEYD_REQMAX + 1], *dom, *sel;
  char out[BASE64_ENCODED_LEN(SIGMAX) + 3];
  unsigned char dig[32], sig[SIGMAX];
  size_t n;
  int ed, i;
  EVP_PKEY *k;
  signal(SIGPIPE, SIG_IGN);
  alarm(TIMEOUT);
  for (i = 0; read_request(r); i++) {
    if (i == DKIMKEYD_REQS) refuse(100, "-too many requests on one connection\n");
    parse(r, &ed, &dom, &sel, dig);
    k = load_key(dom, sel, ed);
    n = sign(k, ed, dig, sig);
    EVP_PKEY_free(k);
    if (!n) refuse(111, "-signing failed\n");
    out[0] = '+';
    n = base64_encode((const char *)sig, n, out + 1);
    out[n + 1] = '\n';
    out[n + 2] = 0;
    logline(0, out);
    put(out);
  }
  if (!i) refuse(100, "-no request\n");
  _exit(0);
}
