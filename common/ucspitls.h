#ifndef TERN_COMMON_UCSPITLS_H
#define TERN_COMMON_UCSPITLS_H
/* The UCSPI-TLS control protocol between an application (tern-smtpd,
   tern-remote) and its TLS process (tern-tlsd, tern-tlsc). libc only, no
   I/O: both sides link it. (tern-remote starts tern-tlsc itself and
   passes it the connected socket as fd 0 and 1; it does not use the
   environment variables below.)

   The application finds three descriptors in its environment, as ucspi-ssl's
   sslserver -n and s6-networking's s6-ucspitlsd give them: SSLCTLFD (the
   control socket), SSLREADFD and SSLWRITEFD (the plaintext channel, often
   one socket). Before TLS it talks to the network on fd 0 and 1 itself.

   To start TLS the application writes the one byte UCSPITLS_START ('Y') on
   the control socket and stops touching fd 0 and 1 (tern-smtpd discards
   whatever it had read but not yet used: RFC 3207 section 4.2). The TLS
   process runs the handshake on the network and then writes ONE reply
   line on the control socket, at most UCSPITLS_REPLY_MAX bytes:

     "OK" SP protocol SP cipher SP bits SP servername [SP peer [SP note]] LF
     "ERR" SP reason LF

   protocol, cipher and servername are 1..UCSPITLS_FIELD_MAX bytes of
   [A-Za-z0-9._-] ("-" where the client sent no SNI); bits is 1..5 digits
   without leading zeros.
   reason is 1..UCSPITLS_FIELD_MAX printable ASCII bytes (SP allowed).
   The optional peer and note extend the reply for the client side
   (tern-tlsc): peer, a token like the others, says how the server's
   certificate was verified ("CA": chain to a trusted CA and the name;
   "DANE-EE", "DANE-TA": RFC 7672) or "none"; note, the rest of the line
   (1..UCSPITLS_FIELD_MAX printable bytes, SP allowed), says why it was not
   verified. A reply without them is still valid (tern-tlsd sends none);
   a parser that predates them rejects them, so a server-side TLS process
   must not send them.
   After "OK" the application talks plaintext through SSLREADFD and
   SSLWRITEFD; after "ERR" (or EOF) the session is over. Extensions to
   SSL_PROTOCOL/SSL_CIPHER style environment variables are not used: the
   reply carries what the Received line (RFC 3848) and the log need. */
#include <stddef.h>

#define UCSPITLS_START 'Y'
/* A server-side TLS process (tern-tlsd) answers the start byte with the
   one byte UCSPITLS_READY once it can run a handshake (its certificate
   and key loaded), or with an "ERR" reply line when it cannot: the
   application then tells its client to begin (STARTTLS's 220) only when
   TLS is really there, and answers 454 otherwise (RFC 3207 section 4).
   The client side (tern-tlsc) sends no such byte. */
#define UCSPITLS_READY 'R'
#define UCSPITLS_REPLY_MAX 384   /* the longest reply formats to 334 bytes */
#define UCSPITLS_FIELD_MAX 64

struct ucspitls_info {
  int ok;                                  /* 1 after "OK", 0 after "ERR" */
  char protocol[UCSPITLS_FIELD_MAX + 1];   /* e.g. TLSv1.3 */
  char cipher[UCSPITLS_FIELD_MAX + 1];     /* e.g. TLS_AES_256_GCM_SHA384 */
  unsigned int bits;                       /* symmetric key bits, e.g. 256 */
  char servername[UCSPITLS_FIELD_MAX + 1]; /* SNI, or "-" */
  char reason[UCSPITLS_FIELD_MAX + 1];     /* after "ERR" */
  char peer[UCSPITLS_FIELD_MAX + 1];       /* "CA", "DANE-EE", "none"...; "" if absent */
  char note[UCSPITLS_FIELD_MAX + 1];       /* why not verified; "" if absent */
};

/* Parse one reply s[0..len) (the LF included). 0 on success with *i
   filled; -1 on anything else (too long, no LF or bytes after it, a bad
   field): the caller must then treat the session as failed. */
extern int ucspitls_parse(const char *s, size_t len, struct ucspitls_info *i);

/* Format a reply into buf (UCSPITLS_REPLY_MAX bytes) from *i; fields that
   are empty, too long or hold a byte outside their set are replaced by
   "-" (reason: by "handshake failed"); peer and note are written only
   when peer is not empty, note only when it is not empty either, each
   replaced like the others when bad. Returns the length (LF included). */
extern size_t ucspitls_format(char *buf, const struct ucspitls_info *i);
#endif
