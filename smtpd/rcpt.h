#ifndef TERN_SMTPD_RCPT_H
#define TERN_SMTPD_RCPT_H
/* rcpt: tern-smtpd's recipient check at RCPT time ("no backscatter",
   tern-smtpd.8 RECIPIENT CHECK). libc only, no I/O: the lookup in
   HOME/users/recipients.cdb (written by tern-newu) is a callback. */
#include <stddef.h>
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
#endif
