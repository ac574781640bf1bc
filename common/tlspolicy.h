#ifndef TERN_COMMON_TLSPOLICY_H
#define TERN_COMMON_TLSPOLICY_H
/* The one TLS policy of tern, shared by the two TLS programs (tern-tlsd,
   and tern-tlsc for outgoing mail). The only file of common/ that uses a
   library (OpenSSL 3); only the TLS programs link it, and the build proves
   that no other binary maps libssl.

   Policy (Mozilla's "intermediate" configuration, server side, with the
   server's cipher order as tern-tlsd(8) documents):
     protocols  TLS 1.2 and 1.3 (a lower floor only where the caller asks:
                tern-tlsd -o on the MX port, RFC 7435 opportunistic TLS)
     TLS 1.2    ECDHE (and DHE, OpenSSL's built-in groups) with AES-GCM or
                ChaCha20-Poly1305 only: forward secrecy, AEAD
     TLS 1.3    OpenSSL's default suites (all AEAD)
     never      compression, renegotiation, SSLv2/3, TLS 1.0/1.1 by default */
#include <time.h>
#include <openssl/ssl.h>

#define TLSPOLICY_CIPHERS12 \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
  "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

/* The protocol floor for a name: "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3";
   returns an OpenSSL version constant, or 0 for an unknown name. */
extern int tlspolicy_version(const char *name);

/* A new server context with the policy applied and the floor minversion
   (0: TLS 1.2). NULL on failure (OpenSSL's error queue says why). */
extern SSL_CTX *tlspolicy_server_ctx(int minversion);

/* Load a certificate chain (PEM, leaf first) and its private key into ctx
   and check that they match. 0, or -1 (OpenSSL's error queue says why). */
extern int tlspolicy_load(SSL_CTX *ctx, const char *certfile, const char *keyfile);

/* ---- the client side (tern-tlsc) ---- */

/* A new client context with the same floor and TLS 1.2 list; the peer is
   not verified during the handshake (SSL_VERIFY_NONE): the caller asks
   tlspolicy_peer() afterwards and the policy decides. cafile: PEM bundle
   of trusted CAs (e.g. /etc/ssl/certs/ca-certificates.crt), or 0 for none
   (nothing then verifies by CA). NULL on failure (error queue says why). */
extern SSL_CTX *tlspolicy_client_ctx(int minversion, const char *cafile);

/* Before the handshake: send SNI servername (0: none) and check the
   certificate against each of the n names (RFC 6125: DNS names of the
   subjectAltName, a wildcard only as the whole left-most label). 0 or -1. */
extern int tlspolicy_client_names(SSL *s, const char *servername, const char *const *names, int n);

/* DANE (RFC 7672, OpenSSL's SSL_dane_* API): before the handshake, enable
   DANE on s with base (the TLSA base domain, also the reference name for
   DANE-TA) and add one TLSA record (usage, selector, mtype, data[0..len)).
   Call tlspolicy_client_dane once, then tlspolicy_client_tlsa per record:
   1 the record is usable, 0 it is not (an unknown or unsupported
   parameter: skipped as RFC 7671 says), -1 on failure. */
extern int tlspolicy_client_dane(SSL *s, const char *base);
extern int tlspolicy_client_tlsa(SSL *s, unsigned usage, unsigned selector, unsigned mtype,
                                 const unsigned char *data, size_t len);

/* After the handshake: how the peer was verified. Returns "DANE-EE" or
   "DANE-TA" (a TLSA record matched), "CA" (a chain to a trusted CA and a
   name matched; never when DANE is enabled: dane non-zero) or "none";
   with "none" note (n bytes, n >= 2) says why, in printable ASCII, else
   note is "". */
extern const char *tlspolicy_peer(SSL *s, int dane, char *note, size_t n);

/* Relay between the TLS session s on the network (rfd, wfd: non-blocking)
   and the plaintext channel fd (non-blocking) until either side ends or
   nothing moves for idle seconds (1..86400). Sends close_notify when the
   application ends first. Returns 0, or -1 on an idle timeout. */
extern int tlspolicy_relay(SSL *s, int rfd, int wfd, int fd, unsigned long idle);

/* ---- the steps both TLS programs take (UCSPI-TLS, common/ucspitls.h) ---- */

/* poll fd for ev until deadline (time(0) seconds); >0 ready, 0 timeout,
   -1 error */
extern int tlspolicy_wait(int fd, short ev, time_t deadline);

/* Wait at most idle seconds for the command byte on the control socket
   ctl. 0: 'Y' or 'y' (start TLS); 1: end of file or timeout (end
   quietly); -1: another byte (a usage error). */
extern int tlspolicy_wait_start(int ctl, unsigned long idle);

/* Run the handshake of s (SSL_set_connect_state or SSL_set_accept_state
   done) on its non-blocking fds rfd, wfd within secs seconds. 0, or -1
   with the reason in err (n bytes, n >= 2). */
extern int tlspolicy_handshake(SSL *s, int rfd, int wfd, unsigned long secs, char *err, size_t n);

/* Make the network fds rfd, wfd and the plaintext channel fd non-blocking.
   0 or -1. */
extern int tlspolicy_nonblock(int rfd, int wfd, int fd);

/* A timeout option: 1..86400 seconds in decimal, the whole string; 0 if
   it is not one. */
extern unsigned long tlspolicy_seconds(const char *s);

/* The "OK" reply's fields for the session s (protocol, cipher, bits) and
   servername (0: "-") into *i, which is zeroed first; peer and note are
   left empty. */
struct ucspitls_info;
extern void tlspolicy_info(SSL *s, const char *servername, struct ucspitls_info *i);

/* Write "ERR reason" on the control socket ctl (best effort). */
extern void tlspolicy_reply_err(int ctl, const char *reason);

/* The newest OpenSSL error as printable text in buf (n bytes, n >= 2), or
   the text fallback when the queue is empty; clears the queue. */
extern const char *tlspolicy_error(char *buf, size_t n, const char *fallback);
#endif
