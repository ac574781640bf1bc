#ifndef TERN_SMTPD_DTSCAN_H
#define TERN_SMTPD_DTSCAN_H
/* dtscan: the loops tern-smtpd can see while a message comes in. tern-local
   refuses a message that already holds its own line "Delivered-To:
   local@domain" (qmail-local's rule, compared in any case); tern-smtpd
   finds the same lines at DATA time, so such a message fails there (554
   5.4.6) instead of bouncing later to a sender who may never have sent it.
   Pure (libc only). The scan streams: it keeps one header line of at most
   DTSCAN_LINE_MAX bytes (longer lines cannot be tern-local's, whose
   addresses are at most ADDR_MAX bytes) and stops at the end of the header.

   dtscan_rcpt computes the addresses tern-local would put in that line
   for one envelope recipient, with the rules tern-send uses to route it
   (send/sched.h sched_classify: control/locals, control/virtualdomains). */
#include <stddef.h>
#include "common/addr.h"
#include "send/sched.h"

#define DTSCAN_LINE_MAX (14 + ADDR_MAX + 40)   /* "Delivered-To: " address, CR */

struct dtscan {
  char line[DTSCAN_LINE_MAX];
  size_t n;            /* bytes of the current line kept */
  int toolong;         /* the current line is longer than DTSCAN_LINE_MAX */
  int done;            /* the header has ended */
  int hit;             /* a Delivered-To line matched */
};

/* the addresses of one recipient, NUL-separated, and their number */
struct dtscan_set {
  char *s;
  size_t len, cap, n;
};

extern void dtscan_init(struct dtscan *d);

/* Feed s[0..n) of the message as it is queued (lines end in LF, a CR
   before it is ignored). Every header line "Delivered-To: VALUE" (the name
   in any case, one SP, the whole rest of the line the value) is compared
   with set (any ASCII case); d->hit is set once one matches. Returns
   d->hit. */
extern int dtscan_feed(struct dtscan *d, const char *s, size_t n, const struct dtscan_set *set);

/* Add a[0..len) to set (growing it with realloc): 1, or 0 without memory. */
extern int dtscan_add(struct dtscan_set *set, const char *a, size_t len);
extern void dtscan_free(struct dtscan_set *set);

/* Add to set the Delivered-To addresses tern-local would write for the
   envelope recipient r[0..len): nothing for a remote one; for a local
   domain r itself and the alias user's form "ternalias-" local-in-lower-
   case "@" domain; for a virtual domain "prepend-" r. 1, or 0 without
   memory. */
extern int dtscan_rcpt(struct dtscan_set *set, const char *r, size_t len, const struct sched_ctl *ctl);
#endif
