#ifndef TERN_SEND_REMOTE_DANE_H
#define TERN_SEND_REMOTE_DANE_H
/* DANE for SMTP (RFC 7672) on tern-remote's side: is the MX RRset
   validated, and the TLSA records of one MX host, asked of the resolver
   in $DNSCACHEIP (tern-remote sets it from control/dnscacheip) with
   send/remote-dns.c, trusted only with the AD bit. The records go to
   tern-tlsc (-d, -a), which matches them with OpenSSL's DANE code.
   libc only. */
#include <stdint.h>
#include "send/remote-dns.h"

#define DANE_ARG_MAX (12 + 2 * DNS_TLSA_DATA_MAX + 1)   /* "u:s:m:hex" and its NUL */

enum dane_state {
  DANE_NONE,       /* no validated TLSA RRset (none, or insecure): DANE does not apply */
  DANE_USABLE,     /* validated, with usable records: DANE authentication required */
  DANE_UNUSABLE,   /* validated, but no record usable: TLS required, not authenticated (RFC 7672 2.2) */
  DANE_FAIL        /* the lookup failed: this host must not get the message now */
};

struct dane {
  enum dane_state state;
  int n;                                   /* usable records: 0..DNS_TLSA_MAX */
  char arg[DNS_TLSA_MAX][DANE_ARG_MAX];    /* each as tern-tlsc's -a wants it */
};

/* The first address of $DNSCACHEIP (IPv4 v4-mapped, or IPv6) into ip,
   else 127.0.0.1. Returns 0, or -1 if $DNSCACHEIP's first word is not an
   address. */
extern int dane_resolver(char ip[16]);

/* Whether host's MX RRset (or its validated absence) is DNSSEC-validated:
   1 yes, 0 no (no AD bit), -1 the lookup failed (SERVFAIL, timeout). */
extern int dane_mx_secure(const char server[16], const char *host, unsigned long secs);

/* Whether the resolver validates: it answers the SOA question for name
   (control/dnssecprobe; default "org", a zone signed since 2010) NOERROR with
   records and the AD bit: 1 yes, 0 no, -1 no answer (timeout, error). */
extern int dane_probe(const char server[16], const char *name, unsigned long secs);

/* The TLSA records of _port._tcp.name into *d; returns d->state. Usable
   records: DANE-TA(2) and DANE-EE(3) with selector 0 or 1 and matching
   type 0, 1 or 2 (RFC 7672 3.1: PKIX usages 0 and 1 are not used). */
extern enum dane_state dane_tlsa(const char server[16], const char *name, uint16_t port,
                                 unsigned long secs, struct dane *d);
#endif
