#ifndef TERN_SEND_BOUNCE_H
#define TERN_SEND_BOUNCE_H
/* Bounces: bounce/N records failed recipients as they fail; at the end of
   a message one RFC 3464 report is built from it and injected through the
   queue (sched_bounce builds it); a delay warning is the same report with
   Action: delayed. */
#include <stddef.h>
#include "send/msgs.h"

/* append recipient rcpt's failure text[0..tlen) to bounce/N of m, fsynced
   (the bounce/ directory too when the file is new). 1 ok; 0 failed
   (logged: the recipient stays to do and is delivered again later) */
extern int bounce_add(const struct msg *m, const char *rcpt, const char *text, size_t tlen);

/* send m's one delay warning listing the paragraphs zb[0..zl) (a pass's
   deferrals), or mark it not wanted (null sender); remembered in
   bounce/N.delayed. A failed injection leaves m->warned 0: the next pass
   tries again. */
extern void bounce_delaywarn(struct msg *m, const char *zb, size_t zl);

/* the end of message i (both channels finished): inject its bounce if
   bounce/N exists, remove bounce/N, log "end msg N", have tern-clean remove
   msg/N, remove tern-send's files and free the entry.
   On a failure the end is retried after SYSCALL_RETRY seconds. */
extern void messdone(size_t i);
#endif
