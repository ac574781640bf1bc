#ifndef TERN_SEND_REMOTE_RPTLOG_H
#define TERN_SEND_REMOTE_RPTLOG_H
/* The TLS-RPT record (RFC 8460): tern-remote appends one line per
   session outcome to HOME/tlsrpt/YYYY-MM-DD (the UTC day; directory and
   files ternr's, mode 0700/0600), and tern-tlsrpt(8) reads the day back
   to build the reports. A line, fields separated by one space:
     v1 TIME PTYPE DOMAIN MX RESULT SENDIP RCVIP INFO...\n
     v2 TIME PTYPE DOMAIN MX RESULT SENDIP RCVIP POLICY INFO...\n
   v2 when the session had a policy to write down (an MTA-STS policy:
   PTYPE sts), else v1. TIME seconds since the epoch; PTYPE tlsa, sts or
   no-policy-found;
   DOMAIN the policy domain; MX the receiving host name; RESULT success or
   an RFC 8460 4.3 result-type (starttls-not-supported,
   certificate-host-mismatch, certificate-expired, certificate-not-trusted,
   validation-failure, tlsa-invalid, dnssec-invalid, dane-required, sts-*);
   SENDIP and RCVIP addresses as text; POLICY the MTA-STS policy applied,
   MODE,MAX_AGE[,MX]... (mode enforce, testing or none, max_age 1..10
   digits, each mx pattern of the policy in its order: 1..RPTLOG_POLICY_MAX
   bytes of 33..126, commas only between the parts; tern-tlsrpt rebuilds
   RFC 8460's policy-string and mx-host from it); INFO free text (bytes
   32..126, the rest of the line, at most RPTLOG_INFO_MAX bytes). Each of
   the other words is 1..RPTLOG_WORD_MAX bytes of 33..126, "-" for none. A day's file stops
   growing at RPTLOG_DAY_MAX bytes: further outcomes of that day are
   dropped (the report then undercounts; it says nothing false).
   libc only. */
#include <stddef.h>
#include <time.h>

#define RPTLOG_WORD_MAX 255
#define RPTLOG_INFO_MAX 200
/* "testing," + 10 digits + 32 (MTASTS_MX_MAX) times "," and 255 bytes
   (ADDR_DOMAIN_MAX): every policy send/mtasts.c accepts fits */
#define RPTLOG_POLICY_MAX (8 + 10 + 32 * 256)
#define RPTLOG_LINE_MAX (3 + 21 + 6 * (RPTLOG_WORD_MAX + 1) + RPTLOG_POLICY_MAX + 1 + RPTLOG_INFO_MAX + 2)
#define RPTLOG_DAY_MAX (16UL << 20)     /* bytes per day file: 16 MiB */
#define RPTLOG_DIR "tlsrpt"             /* under HOME */

struct rptlog {
  long long time;
  char ptype[RPTLOG_WORD_MAX + 1];
  char domain[RPTLOG_WORD_MAX + 1];
  char mx[RPTLOG_WORD_MAX + 1];
  char result[RPTLOG_WORD_MAX + 1];
  char sendip[RPTLOG_WORD_MAX + 1];
  char rcvip[RPTLOG_WORD_MAX + 1];
  char policy[RPTLOG_POLICY_MAX + 1];   /* "" or "-": none (a v1 line) */
  char info[RPTLOG_INFO_MAX + 1];
};
struct mtasts_policy;

/* The POLICY word of an MTA-STS policy pol (send/mtasts.h, as
   mtasts_parse left it) into policy: its mode, max_age and mx patterns. */
extern void rptlog_sts(char policy[RPTLOG_POLICY_MAX + 1], const struct mtasts_policy *pol);

/* Format *r as one line (LF included) into buf (RPTLOG_LINE_MAX bytes):
   v2 when r->policy is set (not "" nor "-"), else v1; empty words become
   "-", bytes outside 33..126 in words and outside 32..126 in info become
   '?', longer fields are cut. Returns the length. */
extern size_t rptlog_format(char *buf, const struct rptlog *r);

/* Parse one line s[0..n) (the LF not included) into *r (policy "-" for
   a v1 line). 0, or -1 when it is not a v1 or v2 line with every field as
   above (a POLICY not of the form above included). Pure; reads untrusted
   bytes (tests/fuzz/tlsrpt-fuzz.c). */
extern int rptlog_parse(const char *s, size_t n, struct rptlog *r);

/* "YYYY-MM-DD" of t (UTC) into day (11 bytes). */
extern void rptlog_day(long long t, char day[11]);

/* Append *r (its time names the day) to dir/YYYY-MM-DD, created 0600,
   with one write (O_APPEND). 0 written; 1 dropped (the day's file holds
   RPTLOG_DAY_MAX bytes); -1 error (errno; ENOENT: no such directory). */
extern int rptlog_append(const char *dir, const struct rptlog *r);
#endif
