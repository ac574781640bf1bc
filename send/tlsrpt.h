#ifndef TERN_SEND_TLSRPT_H
#define TERN_SEND_TLSRPT_H
/* TLS-RPT (RFC 8460) for tern-tlsrpt(8): the _smtp._tls TXT record, a
   day's outcomes (send/remote-rptlog.h lines) summed per policy domain,
   and the JSON report of one domain. libc only; the parsers are pure and
   read untrusted bytes (tests/fuzz/tlsrpt-fuzz.c). */
#include <stddef.h>
#include "common/addr.h"
#include "send/remote-rptlog.h"

#define TLSRPT_RUA_MAX 4           /* mailto addresses used per domain */
#define TLSRPT_DOMAINS_MAX 10000   /* policy domains per day; more are not reported */
#define TLSRPT_POLICIES_MAX 64     /* policies per domain (one per TLSA MX host, one per MTA-STS policy seen, and no-policy-found) */
#define TLSRPT_DETAILS_MAX 100     /* failure-details entries per policy; more add to the counts only */

/* One TXT record s[0..n) (the strings joined): if it is a TLS-RPT record
   (RFC 8460 3: "v=TLSRPTv1" first, fields separated by ";" with optional
   white space, rua= a comma-separated list of URIs, other fields
   name=value) put its mailto: addresses (%-decoded, up to "?"; at most
   TLSRPT_RUA_MAX, others and non-mailto URIs such as https: ignored) into
   rua and return how many (0..TLSRPT_RUA_MAX). -1: not a TLS-RPT record
   (it does not start with "v=TLSRPTv1;"): the caller discards it. -2: a
   TLS-RPT record that is malformed (no rua, a bad field, a bad address:
   one that is not local@domain of bytes 33..126 without "<>()[],;:\" or
   white space). */
extern int tlsrpt_txt(const char *s, size_t n, char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1]);

/* The records of one TXT answer (recs[i][0..lens[i])): RFC 8460 3 says
   records not starting with "v=TLSRPTv1;" are discarded and, unless
   exactly one is left, the domain has no TLS-RPT. The number of mailto
   addresses of that one record (in rua), 0 if none can be used, -1 when
   the domain has no (usable) TLS-RPT record. */
extern int tlsrpt_records(const char *const *recs, const size_t *lens, int n, char rua[TLSRPT_RUA_MAX][ADDR_MAX + 1]);

struct tlsrpt_detail {
  char *result, *sendip, *rcvip, *mx, *info;
  unsigned long n;                  /* failed sessions */
};
struct tlsrpt_policy {
  char *ptype, *mx;                 /* mx "" for no-policy-found and sts */
  char *pol;                        /* sts: the record's POLICY word (remote-rptlog.h); else "" */
  unsigned long ok, fail;
  struct tlsrpt_detail *d;
  int nd;
};
struct tlsrpt_domain {
  char *name;
  struct tlsrpt_policy *p;
  int np;
};
struct tlsrpt_day {
  struct tlsrpt_domain *dom;
  int ndom;
  unsigned long dropped;            /* outcomes not counted (a limit above) */
};
#define TLSRPT_DAY_ZERO { 0, 0, 0 }

/* Count one outcome into *d. 0, or -1 out of memory (d stays usable). */
extern int tlsrpt_add(struct tlsrpt_day *d, const struct rptlog *r);
extern void tlsrpt_free(struct tlsrpt_day *d);

struct tlsrpt_meta {
  const char *org;                  /* organization-name (control/me) */
  const char *contact;              /* contact-info */
  const char *day;                  /* YYYY-MM-DD: date-range is the whole UTC day */
  const char *reportid;             /* report-id */
};

/* The RFC 8460 4 JSON report for one domain, malloc'd and NUL-terminated,
   its length in *len; 0 out of memory. Strings are escaped (RFC 8259).
   A tlsa policy names its MX host in mx-host; an sts policy gets
   policy-string rebuilt from its POLICY word ("version: STSv1", "mode:
   M", one "mx: P" per pattern, "max_age: N", the order of RFC 8461 3.2)
   and mx-host, the list of its mx patterns. */
extern char *tlsrpt_json(const struct tlsrpt_domain *dom, const struct tlsrpt_meta *m, size_t *len);
#endif
