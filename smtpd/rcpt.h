#ifndef TERN_SMTPD_RCPT_H
#define TERN_SMTPD_RCPT_H
/* rcpt: tern-smtpd's recipient policy at RCPT time: relay control
   (rcpthosts, morercpthosts.cdb, RELAYCLIENT), badmailfrom/badrcptto,
   the literal of our own address (localiphost) and the recipient check
   ("no backscatter", tern-smtpd.8 RECIPIENT CHECK). libc only, no I/O:
   the cdb lookups (HOME/control/morercpthosts.cdb, HOME/users/recipients.cdb
   written by tern-newu) are callbacks. */
#include <stddef.h>
#include "common/addr.h"
#include "common/ctl.h"

#define RCPT_LOCAL_MAX 2100   /* rewritten local part, bytes with NUL */

/* Is internal address a[0..len) (local@domain, split at the last '@') for a
   local domain, as tern-send classifies it? The domain is local if it is in
   locals (ctl_domain_match: exact or ".suffix"); otherwise virtualdomains
   is searched ("key:prepend", keys user@domain, domain, .suffixes, "", the
   last line with a key wins, an empty prepend means not local) and the
   local part becomes "prepend-local". 1: local, the local part (ASCII
   lower-cased) goes to L, NUL-terminated, its length to *llen; 0: not
   local; -1: no '@' or the result is too long. */
extern int rcpt_local(const char *a, size_t len, const struct ctl_list *locals,
                      const struct ctl_list *virtualdomains, char *L, size_t *llen);

/* lookup: 1 key present, 0 absent, -1 error */
typedef int (*rcpt_lookup)(void *ctx, const char *key, size_t klen);

/* Is local part L[0..n) (lower case) deliverable? Keys tried: "*",
   "=L", "+P" for every prefix P of L (the empty prefix too), "u" + L up to
   the first '-', "aL", "a" + L up to the first '-'. 1 yes, 0 no, -1 a
   lookup failed. */
extern int rcpt_known(const char *L, size_t n, rcpt_lookup f, void *ctx);

/* What tern-smtpd's controls and environment say about recipients. */
struct rcpt_policy {
  const char *me;                   /* control/me */
  const char *localip;              /* our address (TCPLOCALIP), or 0 */
  const char *localiphost;          /* replaces a literal of localip */
  const char *relayclient;          /* $RELAYCLIENT, or 0: may not relay */
  int have_rcpthosts;               /* control/rcpthosts exists */
  const struct ctl_list *rcpthosts, *badrcptto, *locals, *vdoms;
  rcpt_lookup morercpthosts;        /* key: a domain or ".suffix"; 0: no cdb */
  void *mrh_ctx;
  rcpt_lookup recipients;           /* recipients.cdb; 0: no recipient check */
  void *rcpts_ctx;
};

/* results of rcpt_check */
#define RCPT_OK 0
#define RCPT_E_TOOLONG 1       /* 553 5.1.3: rewriting made it too long */
#define RCPT_E_RELAY 2         /* 553 5.7.1: domain not in rcpthosts */
#define RCPT_E_ROUTE 3         /* 553 5.7.1: %, ! or @ in the local part */
#define RCPT_E_BADMAILFROM 4   /* 553 5.7.1: the sender is listed */
#define RCPT_E_BADRCPTTO 5     /* 553 5.7.1: the recipient is listed */
#define RCPT_E_UNKNOWN 6       /* 550 5.1.1: unknown local recipient */
#define RCPT_E_CHECK 7         /* 451 4.3.0: recipients lookup failed */
#define RCPT_E_MRH 8           /* morercpthosts lookup failed (fatal) */

/* Is address a (from smtp_parse_rcpt, at most ADDR_MAX octets) acceptable
   in a transaction whose sender is in badmailfrom when badmailfrom is 1?
   <postmaster> without a domain becomes postmaster@me, a literal of our own
   address becomes @localiphost, and on RCPT_OK the RELAYCLIENT value is
   appended: a is then what goes into the envelope. Returns RCPT_OK or an
   RCPT_E_* code (rcpt_reply, rcpt_logwhat describe it). */
extern int rcpt_check(const struct rcpt_policy *p, struct addr *a, int badmailfrom);

/* The reply line (no CRLF) for an rcpt_check result other than RCPT_OK. */
extern const char *rcpt_reply(int r);
/* The log word for a refusal ("relay refused", ...), or 0 for none. */
extern const char *rcpt_logwhat(int r);

/* Is a in list l (badmailfrom, badrcptto: an exact address or "@domain",
   ASCII case-insensitive)? 1 yes, 0 no. */
extern int rcpt_listed(const struct ctl_list *l, const struct addr *a);
#endif
