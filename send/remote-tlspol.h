#ifndef TERN_SEND_REMOTE_TLSPOL_H
#define TERN_SEND_REMOTE_TLSPOL_H
/* The TLS policy for a destination: control/tlspolicy, one entry a line,
     domain:level[ option]...
   looked up as control/smtproutes is: the domain itself, then each
   ".suffix" of it from the longest, then the empty domain (":level", the
   default); keys in any case. Without a matching line the level is may.
   Levels (tern-remote(8), section TLS):
     none        never STARTTLS
     may         STARTTLS when offered, no verification; a failed
                 handshake is retried in plaintext (RFC 7435)
     encrypt     TLS required, no verification
     verify      TLS required; the certificate must chain to a trusted CA
                 and name the MX host (or a match= name)
     dane        RFC 7672 DANE where the TLSA records validate, else may
     dane-only   DANE required
   Options: match=NAME[:NAME]... (verify: the names the certificate may
   carry instead of the MX host's; at most TLSPOL_NAMES_MAX in all).
   libc only, no I/O: pure. */
#include "common/addr.h"
#include "common/ctl.h"

#define TLSPOL_NAMES_MAX 4

enum tlspol_level { TLSPOL_NONE, TLSPOL_MAY, TLSPOL_ENCRYPT, TLSPOL_VERIFY, TLSPOL_DANE, TLSPOL_DANE_ONLY };

struct tlspol {
  enum tlspol_level level;
  int nnames;                                         /* match= names, 0..TLSPOL_NAMES_MAX */
  char names[TLSPOL_NAMES_MAX][ADDR_DOMAIN_MAX + 1];  /* lower case */
};

/* Parse the value after "domain:" (NUL-terminated, any length) into *p.
   0, or -1 if malformed: an unknown level or option, an empty or
   over-long name, a name with a byte outside [A-Za-z0-9.-], too many. */
extern int tlspol_parse(const char *v, struct tlspol *p);

/* The policy for host (lower case) from the list l. 1 a line matched, 0
   none did (*p: may, no names), -1 the matching line is malformed (*p:
   may). */
extern int tlspol_lookup(const struct ctl_list *l, const char *host, struct tlspol *p);

/* The level's name as the file spells it ("may"...). */
extern const char *tlspol_name(enum tlspol_level l);
#endif
