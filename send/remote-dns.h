#ifndef TERN_SEND_REMOTE_DNS_H
#define TERN_SEND_REMOTE_DNS_H
/* A small DNS client for what libowfat's resolver cannot say: whether the
   answer was validated. tern-remote asks the resolver of control/dnscacheip
   (a local validating resolver: RFC 7672 and RFC 6698 trust a TLSA RRset
   only with the AD bit from it) one question with RD, AD (RFC 6840 5.7)
   and an EDNS0 OPT record with DO (RFC 4035 3.2.1, 1232-byte UDP), over
   UDP, and over TCP when the answer is truncated. libc only.
   dns_query and dns_answer are pure (no I/O) and read untrusted bytes:
   tests/fuzz/remote-dns-fuzz.c. */
#include <stddef.h>
#include <stdint.h>

#define DNS_T_SOA 6
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_TLSA 52
#define DNS_QUERY_MAX 300        /* bytes of a query (a 255-byte name) */
#define DNS_TLSA_MAX 16          /* TLSA records kept */
#define DNS_TLSA_DATA_MAX 128    /* bytes of certificate association data kept
                                    (SHA-512 is 64; longer records are skipped) */

struct dns_tlsa {
  uint8_t usage, selector, mtype;
  uint16_t len;                           /* 1..DNS_TLSA_DATA_MAX */
  unsigned char data[DNS_TLSA_DATA_MAX];
};

#define DNS_TXT_MAX 8            /* TXT records kept */
#define DNS_TXT_DATA_MAX 1024    /* bytes of one TXT record's strings joined
                                    (longer records are skipped) */

struct dns_txt {
  uint16_t len;                           /* 0..DNS_TXT_DATA_MAX */
  char data[DNS_TXT_DATA_MAX + 1];        /* the strings joined, then a NUL
                                             (data may hold NULs of its own) */
};

struct dns_answer {
  int rcode;                   /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
  int ad;                      /* the AD bit: the resolver validated it */
  int tc;                      /* truncated */
  int n;                       /* records of the question's type in the answer */
  int ntlsa;                   /* TLSA records kept in t (0..DNS_TLSA_MAX) */
  int skipped;                 /* TLSA records not kept (too many, too long, too short) */
  struct dns_tlsa t[DNS_TLSA_MAX];
  int ntxt;                    /* TXT records kept in x (0..DNS_TXT_MAX) */
  struct dns_txt x[DNS_TXT_MAX];
};

/* Build a query for name (a host name, at most 253 bytes, labels of 1..63
   bytes; a trailing dot allowed) and type with id into buf (cap bytes, at
   least DNS_QUERY_MAX). Its length, or 0 for a bad name. */
extern size_t dns_query(unsigned char *buf, size_t cap, const char *name, uint16_t type, uint16_t id);

/* Parse the answer p[0..len) to the query q[0..qlen) (as dns_query built
   it). 0 with *a filled; -1 when it is not an answer to q (id, QR, opcode,
   question) or is malformed (a record past the end, a bad name, a
   compression loop). Records of q's type (class IN) in the answer section
   are counted whatever their owner name (a validating resolver answers
   with the CNAME chain it followed); TLSA and TXT records are kept as they
   come (a TXT record whose strings overrun it counts as skipped). */
extern int dns_answer(const unsigned char *p, size_t len, const unsigned char *q, size_t qlen, struct dns_answer *a);

/* Ask server (16 bytes, IPv6; IPv4 v4-mapped; port 53) the question,
   within secs seconds in all: UDP, then TCP if truncated. 0 *a filled;
   -1 no valid answer (timeout, error; errno). */
extern int dns_ask(const char server[16], const char *name, uint16_t type, unsigned long secs, struct dns_answer *a);
#endif
