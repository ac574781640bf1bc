#ifndef TERN_SEND_REMOTE_MTASTS_H
#define TERN_SEND_REMOTE_MTASTS_H
/* MTA-STS (RFC 8461) on tern-remote's side: the policy of the recipient
   domain from the cache HOME/remote-state/mta-sts/DOMAIN that tern-mtasts
   writes (send/mtasts.h), tern-mtasts run first when the entry is missing
   or was last checked more than RMTS_RECHECK seconds ago, or its policy
   has expired. tern-remote
   never fetches anything itself and never links libcurl. libc only; the
   working directory must be HOME. */
#include "send/mtasts.h"

#define RMTS_RECHECK 3600       /* seconds an entry is used before the TXT record is asked again */
#define RMTS_BIN "bin/tern-mtasts"

struct rmts {
  enum mtasts_mode mode;        /* MTASTS_NONE: no policy applies */
  struct mtasts_policy pol;     /* when mode is testing or enforce */
  int warn;                     /* note says something went wrong (not just "no record") */
  char note[MTASTS_NOTE_MAX + 1];
};

/* The policy for domain (lower case) into *m: the cache entry if it was
   checked within RMTS_RECHECK seconds, else after running RMTS_BIN
   -t secs domain (killed after secs + 5 seconds) the entry it left. An
   expired policy, a missing or malformed entry, a policy of mode none:
   no policy (mode MTASTS_NONE, note says why). Never fails. */
extern void rmts_get(const char *domain, unsigned long secs, struct rmts *m);
#endif
